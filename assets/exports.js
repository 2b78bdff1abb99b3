/* "Xuất ảnh": a server-rendered PNG can take seconds (the first one starts the renderer), so
   the link shows that it is working — disabled, a spinner and "Đang tạo ảnh…" — while the
   image is fetched, then saves it under the server's file name. If fetching fails (busy
   server, 503 with Retry-After), the browser follows the link as before and shows the answer. */
(function () {
  "use strict";

  function isImageExport(a) {
    var href = a.getAttribute("href") || "";
    return href.indexOf("/export/") === 0 && href.indexOf(".png") > 0;
  }

  function filename(resp, href) {
    var cd = resp.headers.get("Content-Disposition") || "";
    var m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
    if (m) { try { return decodeURIComponent(m[1]); } catch (e) { return m[1]; } }
    return href.split("?")[0].split("/").pop() || "export.png";
  }

  function busy(a, on) {
    if (on) {
      a.setAttribute("data-label", a.textContent);
      a.classList.add("is-busy", "disabled");
      a.setAttribute("aria-busy", "true");
      a.setAttribute("aria-disabled", "true");
      var lang = (document.documentElement.getAttribute("lang") || "vi").slice(0, 2);
      var text = a.getAttribute("data-busy") || (lang === "en" ? "Making the image…" : "Đang tạo ảnh…");
      a.innerHTML = "";
      var spin = document.createElement("span");
      spin.className = "spinner-border spinner-border-sm export-spinner";
      spin.setAttribute("aria-hidden", "true");
      a.appendChild(spin);
      a.appendChild(document.createTextNode(" " + text));
    } else {
      a.textContent = a.getAttribute("data-label") || a.textContent;
      a.classList.remove("is-busy", "disabled");
      a.removeAttribute("aria-busy");
      a.removeAttribute("aria-disabled");
    }
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a[href]") : null;
    if (!a || !isImageExport(a) || !window.fetch || ev.ctrlKey || ev.metaKey || ev.shiftKey) { return; }
    ev.preventDefault();
    if (a.classList.contains("is-busy")) { return; }
    var href = a.getAttribute("href");
    busy(a, true);
    fetch(href, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) { throw new Error(String(resp.status)); }
      return resp.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = document.createElement("a");
        save.href = url;
        save.download = filename(resp, href);
        save.style.display = "none";
        document.body.appendChild(save);
        save.click();
        window.setTimeout(function () { URL.revokeObjectURL(url); save.remove(); }, 10000);
        busy(a, false);
      });
    }).catch(function () {
      busy(a, false);
      window.location.assign(href);  // let the browser show the server's answer (busy, error)
    });
  }, true);
})();
