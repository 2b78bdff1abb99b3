/* Wall screen (/wall) timers: rotation, clock, 4K scale and the connection banner.
 *
 * Plain browser timers, on purpose: they keep running when the server is down, and they do
 * not go through Dash's store. (Every dcc.Interval tick is appended to the renderer's undo
 * history, so a once-a-second Dash clock would grow memory for as long as the TV is on.)
 * The page is found by #wall-root; on other pages this does nothing but one lookup.
 *
 * Configuration comes from data attributes the server writes on #wall-root:
 *   data-rotate, data-refresh (seconds), data-lang, data-msg-offline/db/loading.
 * The data refresh itself is a Dash callback that writes a JSON status into #wall-status
 * ({ok, seq, kind}); a new seq means an answer arrived. No answer within refresh + grace,
 * or ok=false, shows the banner with the time of the last good data; the next good
 * answer hides it.
 */
(function () {
  "use strict";
  var TICK_MS = 250;
  var s = { root: null };

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function reset(root) {
    var now = Date.now();
    s = { root: root, active: 0, lastSwitch: now, seq: null, lastSeen: now, lastOk: null, ok: true,
          clock: "", date: "", banner: "", k: 0, progress: "" };
  }

  function readStatus() {
    var el = document.getElementById("wall-status");
    if (!el) { return null; }
    try { return JSON.parse(el.textContent || "null"); } catch (e) { return null; }
  }

  function setText(id, value, key) {
    if (s[key] === value) { return; }
    var el = document.getElementById(id);
    if (el) { el.textContent = value; s[key] = value; }
  }

  function fit(block) {
    var items = block.querySelectorAll(".wall-unit");
    var more = block.querySelector(".wall-more");
    if (!more) { return; }
    var base = parseInt(more.getAttribute("data-base") || "0", 10) || 0;
    var template = more.getAttribute("data-template") || "+{n}";
    var i;
    for (i = 0; i < items.length; i++) { items[i].hidden = false; }
    function say(n) {
      more.hidden = n <= 0;
      more.textContent = n > 0 ? template.replace("{n}", String(n)) : "";
      more.setAttribute("data-more", String(n));
    }
    say(base);
    var shown = items.length;
    while (shown > 1 && block.scrollHeight > block.clientHeight + 1) {
      shown -= 1;
      items[shown].hidden = true;
      say(base + items.length - shown);
    }
    block.setAttribute("data-shown", String(shown));
  }

  function tick() {
    var root = document.getElementById("wall-root");
    if (!root) { s.root = null; return; }
    if (root !== s.root) { reset(root); }
    var now = Date.now();
    var rotate = Math.max(1, parseFloat(root.getAttribute("data-rotate")) || 30) * 1000;
    var refresh = Math.max(1, parseFloat(root.getAttribute("data-refresh")) || 300) * 1000;
    var lang = root.getAttribute("data-lang") === "en" ? "en-GB" : "vi-VN";

    // Scale for charts drawn in px (CSS text scales with vh/vw by itself).
    var k = Math.max(1, Math.min(window.innerWidth / 1920, window.innerHeight / 1080));
    if (Math.abs(k - s.k) > 0.001) { root.style.setProperty("--wall-k", k.toFixed(4)); s.k = k; }

    // Clock.
    var d = new Date(now);
    setText("wall-clock", pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()), "clock");
    var dateText;
    try {
      dateText = d.toLocaleDateString(lang, { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" });
    } catch (e) { dateText = pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear(); }
    setText("wall-date", dateText, "date");

    // Rotation.
    var deck = document.getElementById("wall-deck");
    var n = deck ? deck.children.length : 0;
    if (n > 0) {
      if (now - s.lastSwitch >= rotate) {
        s.active = (s.active + 1) % n;
        s.lastSwitch = (now - s.lastSwitch >= 2 * rotate) ? now : s.lastSwitch + rotate;
      }
      if (s.active >= n) { s.active = 0; }
      if (deck.getAttribute("data-active") !== String(s.active)) { deck.setAttribute("data-active", String(s.active)); }
      var slide = deck.children[s.active];
      var id = slide && slide.id ? slide.id : "";
      if (root.getAttribute("data-slide") !== id) {
        root.setAttribute("data-slide", id);
        root.setAttribute("data-rotations", String((parseInt(root.getAttribute("data-rotations") || "0", 10) || 0) + 1));
      }
      setText("wall-progress", (s.active + 1) + " / " + n, "progress");
    }

    // Lists of units behind: hide the rows that do not fit this screen, and say "+N" for them.
    var sizeKey = window.innerWidth + "x" + window.innerHeight + (document.fonts ? document.fonts.status : "");
    var blocks = document.querySelectorAll(".wall-fit");
    for (var b = 0; b < blocks.length; b++) {
      if (blocks[b].getAttribute("data-fitted") !== sizeKey) { fit(blocks[b]); blocks[b].setAttribute("data-fitted", sizeKey); }
    }

    // Connection status.
    var st = readStatus();
    if (st && st.seq !== s.seq) {
      s.seq = st.seq; s.lastSeen = now; s.ok = !!st.ok; s.kind = st.kind;
      if (st.ok) { s.lastOk = now; }
    }
    var grace = Math.min(refresh, 30000) + 5000;
    var silent = now - s.lastSeen > refresh + grace;
    var text = "";
    if (!s.ok || silent) {
      var template = s.lastOk === null ? root.getAttribute("data-msg-loading")
        : root.getAttribute(silent ? "data-msg-offline" : "data-msg-db");
      text = (template || "").replace("{time}", s.lastOk === null ? "" : hhmm(new Date(s.lastOk)));
    }
    if (text !== s.banner) {
      var banner = document.getElementById("wall-banner");
      if (banner) {
        banner.textContent = text;
        banner.className = text ? "wall-banner is-visible" : "wall-banner";
        s.banner = text;
      }
    }
  }

  window.setInterval(function () {
    try { tick(); } catch (e) { /* a wall screen never stops for a script error */ }
  }, TICK_MS);
})();
