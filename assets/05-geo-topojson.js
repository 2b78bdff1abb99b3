/* Offline maps: plotly.js fetches a base topology (world_110m.json) for every `geo` subplot
 * the first time one is drawn, even with every base layer hidden. A screen that first draws a
 * map while the server is unreachable would then fail. Our maps draw no base layer (only the
 * department's own boundaries, passed as GeoJSON in the figure), so an empty topology with the
 * layer names plotly knows is registered here and nothing is ever fetched. The real file stays
 * in assets/topojson/ for kaleido (dashboard.maps.TOPOJSON_URL). */
(function () {
  var empty = { type: "GeometryCollection", geometries: [] };
  var topology = {
    type: "Topology", bbox: [-180, -90, 180, 90], arcs: [],
    objects: { coastlines: empty, land: empty, ocean: empty, lakes: empty, rivers: empty,
               countries: empty, subunits: empty }
  };
  var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} };
  assets.topojson = assets.topojson || {};
  ["world_110m", "world_50m"].forEach(function (name) {
    if (assets.topojson[name] === undefined) { assets.topojson[name] = topology; }
  });
})();
