// gsmgate staff UI: the little the server-rendered pages need in the
// browser. No framework, no build step. Each block below wires one
// feature when its elements are on the page.
"use strict";
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // post sends a form-encoded POST from the page's script, with the
  // session's CSRF token.
  function post(url, fields) {
    var body = new URLSearchParams(fields || {});
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
    });
  }
  function getHTML(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- The counter: the server counts (exactly what Send will send). ----
  function wireCounter(area) {
    var box = document.getElementById(area.dataset.counter);
    if (!box) return;
    var seq = 0;
    function render(c) {
      var k = $(".counter", box);
      k.dataset.characters = c.characters;
      k.dataset.parts = c.parts;
      k.dataset.encoding = c.encoding;
      $(".counter-text", k).textContent = c.characters + " characters · " + c.parts + (c.parts === 1 ? " message" : " messages");
      $(".counter-enc", k).textContent = c.encoding === "ucs2" ? "Unicode (UCS-2)" : "GSM 7-bit";
      $(".counter-left", k).textContent = c.remaining + " left in this message";
      k.classList.toggle("over", c.parts > c.max_parts);
      var u = $(".counter-unicode", k);
      $$(".uchar", u).forEach(function (b) { b.remove(); });
      c.unicode.forEach(function (f) {
        var b = el("button", { type: "button", "class": "uchar", "data-testid": "counter-unicode-char",
          "data-char": f.char, "data-index": f.index, "data-replacement": f.replacement || "",
          title: f.code + " at character " + (f.index + 1) + (f.replacement ? ": click to replace with “" + f.replacement + "”" : "") });
        b.textContent = f.char + " ";
        b.appendChild(el("small", {}, "@" + (f.index + 1)));
        u.appendChild(b);
      });
      u.hidden = c.unicode.length === 0;
    }
    function recount() {
      var mine = ++seq;
      post("/ui/count", { text: area.value }).then(function (r) { return r.json(); }).then(function (c) {
        if (mine === seq) render(c); // a slower older answer must not win
      }).catch(function () {});
    }
    area.addEventListener("input", recount);
    box.addEventListener("click", function (ev) {
      var b = ev.target.closest(".uchar");
      if (!b) return;
      var ch = b.dataset.char, rep = b.dataset.replacement;
      if (rep) {
        area.value = area.value.split(ch).join(rep);
        area.dispatchEvent(new Event("input"));
      } else {
        // No look-alike: select it so the writer can decide.
        var cps = Array.from(area.value), idx = +b.dataset.index;
        var start = cps.slice(0, idx).join("").length;
        area.focus();
        area.setSelectionRange(start, start + ch.length);
      }
    });
    if (area.value) recount();
  }
  $$("textarea[data-counter]").forEach(wireCounter);

  // ---- Enter sends, Shift+Enter is a new line. ----
  $$("textarea[data-enter-sends]").forEach(function (area) {
    area.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing) return;
      ev.preventDefault();
      if (area.value.trim() !== "") area.form.requestSubmit();
    });
  });

  // ---- Thread: newest at the bottom; older pages load on scrolling up. ----
  var thread = $("#thread");
  function toBottom() { if (thread) thread.scrollTop = thread.scrollHeight; }
  function watchOlder() {
    if (!thread || !("IntersectionObserver" in window)) return;
    var s = $(".older", thread);
    if (!s) return;
    var io = new IntersectionObserver(function (entries) {
      if (!entries[0].isIntersecting) return;
      io.disconnect();
      getHTML(s.dataset.older).then(function (html) {
        var before = thread.scrollHeight;
        s.insertAdjacentHTML("afterend", html);
        s.remove();
        thread.scrollTop += thread.scrollHeight - before;
        watchOlder();
      });
    }, { root: thread });
    io.observe(s);
  }
  // reloadThread brings the thread up to date without losing the older
  // pages the user scrolled to: changed bubbles are replaced, new ones
  // appended (they are the newest).
  function reloadThread() {
    if (!thread) return;
    getHTML(thread.dataset.src).then(function (html) {
      var atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
      var fresh = document.createElement("div");
      fresh.innerHTML = html;
      $$("[data-message-id]", fresh).forEach(function (b) {
        var old = document.getElementById(b.id);
        if (old) old.replaceWith(b); else thread.appendChild(b);
      });
      if (atBottom) toBottom();
    });
  }
  if (thread) { toBottom(); watchOlder(); }

  // ---- Conversation list: older conversations load on scroll. ----
  var convList = $("#conv-list");
  function watchMore() {
    if (!convList || !("IntersectionObserver" in window)) return;
    var s = $("li.more", convList);
    if (!s) return;
    var io = new IntersectionObserver(function (entries) {
      if (!entries[0].isIntersecting) return;
      io.disconnect();
      getHTML(s.dataset.more).then(function (html) {
        s.insertAdjacentHTML("afterend", html);
        s.remove();
        convList.dataset.paged = "1";
        watchMore();
      });
    });
    io.observe(s);
  }
  watchMore();
  var searching = !!($("input[name=q]") || {}).value;
  // coalesce runs fn at most once per ms however often it is asked (a bulk
  // send's thousands of status events must not become thousands of
  // fetches).
  function coalesce(fn, ms) {
    var timer = null;
    return function () {
      if (timer) return;
      timer = setTimeout(function () { timer = null; fn(); }, ms);
    };
  }
  var reloadListSoon = coalesce(function () { reloadList(); }, 500);
  var reloadThreadSoon = coalesce(function () { reloadThread(); }, 250);
  function reloadList() {
    // Only the first page, and not over search results.
    if (!convList || searching || convList.dataset.paged) return;
    getHTML(location.pathname + "?partial=list&view=" + (convList.dataset.view || "")).then(function (html) {
      convList.innerHTML = html;
      watchMore();
    });
  }

  // ---- Notifications: sidebar, count in the title, toasts. ----
  var notes = $("#notes"), notesList = $("#notes-list"), notesCount = $("#notes-count");
  function setCount(n) {
    if (!notesCount) return;
    notesCount.dataset.count = n;
    notesCount.textContent = n;
    var base = document.body.dataset.title;
    document.title = n > 0 ? "(" + n + ") " + base : base;
    $("#notes-empty").hidden = n > 0;
  }
  if (notesCount) setCount(+notesCount.dataset.count);
  function noteItem(n) {
    var li = el("li", { "class": "note " + n.Kind, "data-testid": "notification-item", "data-id": n.ID, "data-kind": n.Kind });
    if (n.Batch) li.dataset.batch = n.Batch;
    var a = el("a", { href: n.Link });
    a.appendChild(el("strong", {}, n.Title));
    a.appendChild(el("span", {}, n.Text));
    a.appendChild(el("time", {}, new Date(n.At).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false })));
    li.appendChild(a);
    li.appendChild(el("button", { type: "button", "class": "clear", "data-clear": n.ID, "aria-label": "Clear" }, "✕"));
    return li;
  }
  if (notes) {
    $("#notes-open").addEventListener("click", function () {
      notes.hidden = !notes.hidden;
      this.setAttribute("aria-expanded", String(!notes.hidden));
    });
    $("#notes-close").addEventListener("click", function () { notes.hidden = true; });
    notesList.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-clear]");
      if (!b) return;
      post("/notifications/" + b.dataset.clear + "/clear").then(function (r) {
        if (!r.ok) return;
        b.closest("li").remove();
        setCount(notesList.children.length);
      });
    });
    $("#notes-clear").addEventListener("click", function () {
      post("/notifications/clear").then(function (r) {
        if (!r.ok) return;
        notesList.innerHTML = "";
        setCount(0);
      });
    });
  }
  var toasts = $("#toasts");
  function toast(n) {
    var t = el("div", { "class": "toast " + n.Kind, "data-testid": "toast", "data-kind": n.Kind, "data-id": n.ID, "data-shown-at": Date.now(), role: "status" });
    if (n.Batch) t.dataset.batch = n.Batch; // one toast for a bulk send's failures
    t.appendChild(el("strong", {}, n.Kind === "failure" ? n.Title : "SMS from " + n.Title));
    t.appendChild(el("span", {}, n.Text));
    t.addEventListener("click", function () { location.href = n.Link; });
    toasts.appendChild(t);
    setTimeout(function () { t.classList.add("going"); setTimeout(function () { t.remove(); }, 400); }, 10000);
  }

  // ---- Live events: one stream shared by the tabs. ----
  // A toast is shown once per notification, even when it arrived while
  // the browser was between two pages: the newest notification toasted is
  // kept for the tab, and the stream replays what came after it.
  var lastToast = "";
  try { lastToast = sessionStorage.getItem("gsmgate.lastToast") || ""; } catch (e) {}
  function remember(id) {
    try { if (id > (sessionStorage.getItem("gsmgate.lastToast") || "")) sessionStorage.setItem("gsmgate.lastToast", id); } catch (e) {}
  }
  // A toast counts as seen once it has been on screen a moment: one that
  // came just as the page was left (a form was sent) is shown again on the
  // next page.
  function toasted(id) {
    if (id > lastToast) lastToast = id;
    setTimeout(function () { remember(id); }, 1500);
  }
  // A new tab: what is already in the sidebar is not news.
  if (!lastToast && notesList) { lastToast = document.body.dataset.since; remember(lastToast); }
  // The modems dashboard reloads its panel (drawn on the server) when a
  // modem changes state, and every 10 s for the signal and the counts.
  var modemsPanel = $("#modems-panel");
  function reloadModems() {
    if (!modemsPanel) return;
    getHTML(modemsPanel.dataset.refresh).then(function (html) {
      modemsPanel.innerHTML = html;
      modemsPanel.dataset.loads = String(Number(modemsPanel.dataset.loads || 0) + 1);
    }).catch(function () {});
  }
  if (modemsPanel) setInterval(reloadModems, 10000);
  var onEvent = {
    modem: function () { reloadModems(); },
    hello: function () {
      // Whatever changed before the stream was up (or while it was down).
      if (document.body.dataset.live) { reloadThread(); reloadList(); } else if (thread) { reloadThread(); }
      document.body.dataset.live = "1";
    },
    notification: function (data) {
      var n = JSON.parse(data);
      if (n.ID > lastToast) { toast(n); toasted(n.ID); }
      if (!$('li[data-id="' + n.ID + '"]', notesList)) {
        notesList.insertBefore(noteItem(n), notesList.firstChild);
        setCount(notesList.children.length);
      }
    },
    message: function (data) {
      var m = JSON.parse(data);
      var b = document.getElementById("m-" + m.id);
      if (b) {
        b.dataset.state = m.state;
        var s = $(".state", b);
        if (s) { s.textContent = m.state; s.className = "state s-" + m.state; if (m.reason) s.title = m.reason; }
        if (m.reason && !$(".reason", b)) $(".meta", b).appendChild(el("span", { "class": "reason" }, m.reason));
      } else if (thread && thread.dataset.number === m.number) {
        reloadThreadSoon();
      }
      reloadListSoon();
    }
  };
  // openStream listens to the server; relay passes each event on to the
  // other tabs.
  function openStream(relay) {
    var es = new EventSource("/ui/events" + (lastToast ? "?after=" + lastToast : ""));
    Object.keys(onEvent).forEach(function (type) {
      es.addEventListener(type, function (ev) {
        onEvent[type](ev.data);
        if (relay) relay.postMessage({ type: type, data: ev.data });
      });
    });
    return es;
  }
  // Browsers give a site about six connections; a stream per tab would
  // starve a user with many tabs open. So the tabs elect one (Web Locks) to
  // hold the stream and share its events (BroadcastChannel). Where either
  // is missing (plain http to a LAN address is not a secure context), each
  // tab has its own stream.
  if (notesList && "EventSource" in window) {
    if ("BroadcastChannel" in window && navigator.locks) {
      var bc = new BroadcastChannel("gsmgate-events");
      bc.onmessage = function (ev) {
        if (onEvent[ev.data.type]) onEvent[ev.data.type](ev.data.data);
      };
      document.body.dataset.live = "relay"; // the leader tab streams for us
      navigator.locks.request("gsmgate-events", function () {
        delete document.body.dataset.live; // now this tab streams itself
        var es = openStream(bc);
        // Held until the page goes: released at pagehide, not at unload,
        // which can come late (or, for a page kept in the back/forward
        // cache, not at all), leaving the other tabs without a stream.
        return new Promise(function (release) {
          window.addEventListener("pagehide", function () { es.close(); release(); }, { once: true });
        });
      });
      // Back from the back/forward cache: the stream and lock are gone.
      window.addEventListener("pageshow", function (ev) { if (ev.persisted) location.reload(); });
    } else {
      openStream(null);
    }
  }

  // ---- Send SMS: recipients as chips. ----
  var rin = $("#recipient-input");
  if (rin) {
    var chips = $("#recipients"), suggest = $("#suggest"), form = $("#compose-form");
    var chip = function (r) {
      var cls = "chip" + (r.problem ? " bad" : r.warning ? " warn" : "");
      var c = el("span", { "class": cls, "data-testid": "compose-recipient", "data-number": r.number,
        title: r.problem || r.warning || r.number });
      if (r.label) c.appendChild(el("em", { "class": "label" }, r.label));
      var name = el("span", { "class": "chip-name" }, r.name ? r.name + " " : r.number);
      if (r.name) name.appendChild(el("small", {}, r.number));
      c.appendChild(name);
      if (r.problem || r.warning) c.appendChild(el("small", { "class": "why" }, r.problem || r.warning));
      c.appendChild(el("input", { type: "hidden", name: "to", value: r.number }));
      c.appendChild(el("input", { type: "hidden", name: "label", value: r.label || "" }));
      c.appendChild(el("button", { type: "button", "class": "chip-x", "aria-label": "Remove" }, "✕"));
      chips.insertBefore(c, rin);
    };
    var lookup = function (q) {
      return fetch("/ui/recipient?q=" + encodeURIComponent(q), { credentials: "same-origin" }).then(function (r) { return r.json(); });
    };
    var hideSuggest = function () { suggest.hidden = true; suggest.innerHTML = ""; };
    var add = function () {
      var q = rin.value.trim().replace(/,$/, "");
      if (!q) return Promise.resolve();
      return lookup(q).then(function (r) {
        if (r.matches && r.matches.length) {
          if (r.matches.length > 1) { showMatches(r.matches); return; }
          r = r.matches[0];
        } else if (!r.number) {
          r = { number: q, problem: "no contact or number matches" };
        }
        if ($('[data-testid="compose-recipient"][data-number="' + CSS.escape(r.number) + '"]', chips)) { rin.value = ""; return; }
        chip(r);
        rin.value = "";
        hideSuggest();
      });
    };
    var showMatches = function (ms) {
      suggest.innerHTML = "";
      ms.forEach(function (m) {
        var li = el("li");
        var b = el("button", { type: "button" }, m.name + " — " + m.number + (m.company ? " (" + m.company + ")" : ""));
        b.addEventListener("click", function () { chip(m); rin.value = ""; hideSuggest(); rin.focus(); });
        li.appendChild(b);
        suggest.appendChild(li);
      });
      suggest.hidden = ms.length === 0;
    };
    var typing;
    rin.addEventListener("input", function () {
      clearTimeout(typing);
      var q = rin.value.trim();
      if (!/\p{L}/u.test(q)) { hideSuggest(); return; }
      typing = setTimeout(function () { lookup(q).then(function (r) { showMatches(r.matches || []); }); }, 150);
    });
    rin.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === "," || (ev.key === "Tab" && rin.value.trim())) {
        ev.preventDefault();
        add();
      } else if (ev.key === "Backspace" && rin.value === "") {
        var last = rin.previousElementSibling;
        if (last && last.classList.contains("chip")) last.remove();
      }
    });
    chips.addEventListener("click", function (ev) {
      var x = ev.target.closest(".chip-x");
      if (x) x.closest(".chip").remove(); else rin.focus();
    });
    form.addEventListener("submit", function (ev) {
      if (rin.value.trim()) { ev.preventDefault(); add().then(function () { if (!rin.value.trim()) form.requestSubmit(); }); }
    });
  }

  // ---- The phone's menu closes on a click elsewhere, as menus do. ----
  var menu = $(".nav-menu");
  if (menu) document.addEventListener("click", function (ev) {
    if (menu.open && !menu.contains(ev.target)) menu.open = false;
  });

  // ---- Settings: the toggle takes effect at once. ----
  $$("input[data-autosubmit]").forEach(function (box) {
    box.addEventListener("change", function () {
      var f = {};
      if (box.checked) f[box.name] = "on";
      post(box.form.action, f).then(function (r) { box.closest("label").dataset.saved = r.ok ? "1" : "0"; });
    });
  });

  // ---- Send Failures: select all. ----
  var all = $("#select-all");
  if (all) all.addEventListener("change", function () {
    $$('input[name="ids"]').forEach(function (b) { b.checked = all.checked; });
  });

  // ---- Bulk send: a saved template fills the text; placeholders insert
  // at the cursor (either way the counter recounts). ----
  // Enter means what the focused field means: in the contacts search it
  // searches; on a contact's box it does nothing (Space ticks it); in the
  // other fields the form's default button asks for the preview. A send
  // is only ever the preview's confirm button.
  // Enter submits with the form's default button (a hidden Preview), so
  // the submit is redirected by what had the focus.
  var bform = $("#bulk-form");
  if (bform) bform.addEventListener("submit", function (ev) {
    if (!ev.submitter || ev.submitter.dataset.testid !== "bulk-default-submit") return;
    var t = document.activeElement;
    if (t && t.id === "bulk-contacts-q") {
      ev.preventDefault();
      // Not from inside this submit event: a form ignores a submit asked
      // for while it is firing one.
      setTimeout(function () { bform.requestSubmit($('[data-testid=bulk-contacts-find]')); }, 0);
    } else if (t && t.type === "checkbox") {
      ev.preventDefault();
    }
  });
  var btext = $("#bulk-text");
  if (btext) {
    var setText = function (v) { btext.value = v; btext.dispatchEvent(new Event("input")); };
    $("#bulk-template").addEventListener("change", function (ev) {
      var o = ev.target.selectedOptions[0];
      if (o && o.dataset.text) setText(o.dataset.text);
    });
    $("#placeholders").addEventListener("click", function (ev) {
      var b = ev.target.closest("[data-insert]");
      if (!b) return;
      var a = btext.selectionStart, z = btext.selectionEnd;
      setText(btext.value.slice(0, a) + b.dataset.insert + btext.value.slice(z));
      btext.focus();
      btext.selectionStart = btext.selectionEnd = a + b.dataset.insert.length;
    });
  }

  // ---- Bulk progress: the server renders the block; the page fetches it
  // again every second while anything is still on its way. ----
  function showProgress(box) {
    $$(".seg", box).forEach(function (s) { s.style.width = s.dataset.w + "%"; });
    if (!box.dataset.src) return;
    setTimeout(function () {
      getHTML(box.dataset.src).then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html.trim();
        var fresh = t.content.firstElementChild;
        box.replaceWith(fresh);
        showProgress(fresh);
      }).catch(function () { showProgress(box); });
    }, box.dataset.done === "1" ? 5000 : 1000); // done: only delivery reports to come
  }
  var prog = $("#progress");
  if (prog) showProgress(prog);
})();
