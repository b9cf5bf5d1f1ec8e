/* Kartoteka UI behaviour. No inline scripts anywhere (CSP): every page hooks in here
   through data-attributes. */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var LANG = document.body.getAttribute("data-lang") || "pl";

  function toast(message, level) {
    var box = document.getElementById("kt-toasts");
    if (!box) { window.alert(message); return; }
    var el = document.createElement("div");
    el.className = "toast align-items-center text-bg-" + (level || "danger") + " border-0";
    el.setAttribute("role", level === "success" ? "status" : "alert");
    var inner = document.createElement("div");
    inner.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", LANG === "en" ? "Close" : "Zamknij");
    inner.appendChild(body);
    inner.appendChild(close);
    el.appendChild(inner);
    box.appendChild(el);
    if (window.bootstrap) { new bootstrap.Toast(el, {delay: 6000}).show(); }
  }
  window.ktToast = toast;

  function messageOf(xhr) {
    var text = xhr && xhr.responseText ? xhr.responseText : "";
    try {
      var data = JSON.parse(text);
      return data.detail || data.message || data.title || text;
    } catch (e) {
      var div = document.createElement("div");
      div.innerHTML = text;
      var alertEl = div.querySelector("#error-message, .alert");
      return (alertEl ? alertEl.textContent : div.textContent || "").trim().slice(0, 400);
    }
  }

  // -- htmx: CSRF header on every request, visible errors ----------------------------------
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRFToken"] = CSRF;
  });
  document.addEventListener("htmx:responseError", function (evt) {
    toast(messageOf(evt.detail.xhr) || (LANG === "en" ? "Request failed." : "Operacja nie powiodła się."));
    var kanban = evt.detail.elt && evt.detail.elt.closest ? evt.detail.elt.closest("#kt-kanban") : null;
    if (kanban) { window.setTimeout(function () { window.location.reload(); }, 1500); }
  });

  // -- confirmations -------------------------------------------------------------------------
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var msg = form.getAttribute("data-confirm");
    if (form.id === "kt-bulk-form") {
      var op = form.querySelector("#kt-bulk-op");
      var opt = op ? op.options[op.selectedIndex] : null;
      msg = opt ? opt.getAttribute("data-confirm") : "";
    }
    if (msg && !window.confirm(msg)) { evt.preventDefault(); evt.stopPropagation(); }
  }, true);

  // -- list: row selection -------------------------------------------------------------------
  function updateSelection() {
    var checks = document.querySelectorAll(".kt-row-check");
    var n = 0;
    checks.forEach(function (c) { if (c.checked) { n += 1; } });
    var count = document.getElementById("kt-selected-count");
    if (count) { count.textContent = String(n); }
    var run = document.getElementById("kt-bulk-run");
    if (run) { run.disabled = n === 0; }
  }
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (t.id === "kt-select-all") {
      document.querySelectorAll(".kt-row-check").forEach(function (c) { c.checked = t.checked; });
      updateSelection();
    } else if (t.classList && t.classList.contains("kt-row-check")) {
      updateSelection();
    }
  });

  // -- relation pickers (Tom Select fed by /lookup/<entity>) --------------------------------
  function lookupUrl(select) {
    var from = select.getAttribute("data-lookup-from");
    if (from) {
      var src = document.querySelector(from);
      var opt = src ? src.options[src.selectedIndex] : null;
      return opt ? opt.getAttribute("data-lookup") : "";
    }
    return select.getAttribute("data-lookup");
  }
  function initRelation(select) {
    if (select.tomselect || !window.TomSelect || select.disabled) { return; }
    var ts = new TomSelect(select, {
      valueField: "value", labelField: "text", searchField: "text",
      maxOptions: 50, preload: "focus", loadThrottle: 250, allowEmptyOption: true,
      load: function (query, callback) {
        var url = lookupUrl(select);
        if (!url) { callback(); return; }
        fetch(url + "?q=" + encodeURIComponent(query), {
          headers: {"Accept": "application/json"}, credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.json() : []; })
          .then(function (data) { callback(data); })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () {
          return '<div class="no-results">' + (LANG === "en" ? "No results" : "Brak wyników") + "</div>";
        }
      },
      onChange: function () { select.dispatchEvent(new Event("input", {bubbles: true})); }
    });
    var from = select.getAttribute("data-lookup-from");
    if (from) {
      var src = document.querySelector(from);
      if (src) {
        src.addEventListener("change", function () {
          ts.clear(true); ts.clearOptions(); ts.settings.preload && ts.load("");
        });
      }
    }
  }

  // -- inline child rows ---------------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest(".kt-remove-row") : null;
    if (!btn) { return; }
    var row = btn.closest("tr");
    var form = btn.closest("form");
    if (row.hasAttribute("data-id")) {
      var flag = row.querySelector(".kt-delete-flag");
      if (flag) { flag.value = "1"; }
      row.classList.add("d-none");
    } else {
      row.parentNode.removeChild(row);
    }
    if (form) { form.setAttribute("data-dirty", "1"); }
  });

  // -- unsaved changes warning ---------------------------------------------------------------
  function watchDirty(form) {
    if (form.getAttribute("data-dirty-bound")) { return; }
    form.setAttribute("data-dirty-bound", "1");
    form.addEventListener("input", function () { form.setAttribute("data-dirty", "1"); });
    form.addEventListener("change", function () { form.setAttribute("data-dirty", "1"); });
    form.addEventListener("submit", function () { form.removeAttribute("data-dirty"); });
  }
  window.addEventListener("beforeunload", function (evt) {
    var dirty = document.querySelector("form[data-dirty-warning][data-dirty]");
    if (dirty) {
      evt.preventDefault();
      evt.returnValue = dirty.getAttribute("data-dirty-warning");
      return evt.returnValue;
    }
  });

  // -- kanban: drag a card to another column -------------------------------------------------
  var dragged = null;
  document.addEventListener("dragstart", function (evt) {
    var card = evt.target.closest ? evt.target.closest(".kt-card[draggable=true]") : null;
    if (!card) { return; }
    dragged = card;
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    card.classList.add("kt-dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("kt-dragging"); }
    document.querySelectorAll(".kt-drop-target").forEach(function (z) { z.classList.remove("kt-drop-target"); });
  });
  document.addEventListener("dragover", function (evt) {
    var zone = evt.target.closest ? evt.target.closest(".kt-dropzone") : null;
    if (zone && dragged) { evt.preventDefault(); zone.classList.add("kt-drop-target"); }
  });
  document.addEventListener("dragleave", function (evt) {
    var zone = evt.target.closest ? evt.target.closest(".kt-dropzone") : null;
    if (zone) { zone.classList.remove("kt-drop-target"); }
  });
  document.addEventListener("drop", function (evt) {
    var zone = evt.target.closest ? evt.target.closest(".kt-dropzone") : null;
    if (!zone || !dragged) { return; }
    evt.preventDefault();
    zone.classList.remove("kt-drop-target");
    var card = dragged;
    dragged = null;
    var state = zone.getAttribute("data-state");
    if (state === card.getAttribute("data-state")) { return; }
    zone.appendChild(card);
    updateKanbanCounts();
    htmx.ajax("PATCH", card.getAttribute("data-url"), {
      source: card, target: card, swap: "outerHTML",
      values: {state: state, version: card.getAttribute("data-version")}
    });
  });
  function updateKanbanCounts() {
    document.querySelectorAll(".kt-column").forEach(function (col) {
      var badge = col.querySelector(".kt-col-count");
      if (badge) { badge.textContent = String(col.querySelectorAll(".kt-card").length); }
    });
  }
  document.addEventListener("htmx:afterSwap", function (evt) {
    // a card moved with its own "move to" form lands in the right column
    var card = evt.detail.elt && evt.detail.elt.classList && evt.detail.elt.classList.contains("kt-card")
      ? evt.detail.elt : null;
    var target = evt.detail.target;
    var candidates = [card, target].filter(Boolean);
    candidates.forEach(function (c) {
      var fresh = c.isConnected ? c : document.querySelector('.kt-card[data-id="' + c.getAttribute("data-id") + '"]');
      if (!fresh) { return; }
      var zone = document.querySelector('.kt-dropzone[data-state="' + fresh.getAttribute("data-state") + '"]');
      if (zone && fresh.parentNode !== zone) { zone.appendChild(fresh); }
    });
    updateKanbanCounts();
  });

  // -- calendar (FullCalendar) ---------------------------------------------------------------
  function initCalendar(el) {
    if (!window.FullCalendar || el.getAttribute("data-ready")) { return; }
    el.setAttribute("data-ready", "1");
    var labels = JSON.parse(el.getAttribute("data-labels") || "{}");
    var editable = el.getAttribute("data-editable") === "true";
    function save(info) {
      var ev = info.event;
      var body = new URLSearchParams();
      body.set("start", ev.start ? ev.start.toISOString() : "");
      if (ev.end) { body.set("end", ev.end.toISOString()); }
      body.set("version", ev.extendedProps.version == null ? "" : ev.extendedProps.version);
      fetch(ev.extendedProps.move_url, {
        method: "POST", credentials: "same-origin", body: body,
        headers: {"X-CSRFToken": CSRF, "Accept": "application/json"}
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { throw new Error(data.detail || data.title || labels.error); }
          ev.setExtendedProp("version", data.version);
          toast(data.message || labels.saved, "success");
        });
      }).catch(function (err) {
        info.revert();
        toast((labels.error || "") + " " + (err.message || ""));
      });
    }
    var cal = new FullCalendar.Calendar(el, {
      locale: el.getAttribute("data-locale") || "pl",
      firstDay: 1,
      initialView: el.getAttribute("data-initial-view") || "dayGridMonth",
      headerToolbar: {left: "prev,next today", center: "title",
                      right: "dayGridMonth,timeGridWorkWeek,timeGridWeek,timeGridDay"},
      buttonText: {today: labels.today, month: labels.month, week: labels.week,
                   day: labels.day, list: labels.list, timeGridWorkWeek: labels.workweek},
      views: {timeGridWorkWeek: {type: "timeGrid", duration: {weeks: 1}, weekends: false,
                                 buttonText: labels.workweek}},
      allDayText: LANG === "en" ? "all-day" : "cały dzień",
      nowIndicator: true,
      height: "auto",
      editable: editable,
      eventStartEditable: editable,
      eventDurationEditable: editable,
      events: el.getAttribute("data-events-url"),
      eventDrop: save,
      eventResize: save
    });
    cal.render();
    el.ktCalendar = cal;
  }

  // -- dashboard charts (Chart.js) -----------------------------------------------------------
  var PALETTE = ["#0d6efd", "#198754", "#ffc107", "#dc3545", "#6f42c1", "#20c997", "#fd7e14"];
  function initChart(canvas) {
    if (!window.Chart || canvas.getAttribute("data-ready")) { return; }
    canvas.setAttribute("data-ready", "1");
    var data = JSON.parse(canvas.getAttribute("data-chart") || "{}");
    var type = canvas.getAttribute("data-chart-type") || "bar";
    (data.datasets || []).forEach(function (ds, i) {
      if (type === "pie" || type === "doughnut") {
        ds.backgroundColor = (ds.data || []).map(function (_v, j) { return PALETTE[j % PALETTE.length]; });
      } else {
        ds.backgroundColor = PALETTE[i % PALETTE.length];
        ds.borderColor = PALETTE[i % PALETTE.length];
      }
    });
    new Chart(canvas, {type: type, data: data,
      options: {responsive: true, maintainAspectRatio: false, locale: LANG === "en" ? "en-GB" : "pl-PL",
                scales: (type === "pie" || type === "doughnut") ? {} :
                  {y: {beginAtZero: true, ticks: {precision: 0}}},
                plugins: {legend: {display: (data.datasets || []).length > 1 || type === "pie" || type === "doughnut"}}}});
  }

  // -- form sections shown only for some value of a field (e.g. kind = person) --------------
  function initWhen(section) {
    var form = section.closest("form");
    var input = form && form.querySelector("[name='" + section.dataset.whenField + "']");
    if (!input) { return; }
    var wanted = section.dataset.whenValue.split(",");
    function apply() { section.hidden = wanted.indexOf(input.value) < 0; }
    input.addEventListener("change", apply);
    apply();
  }

  // -- wiring --------------------------------------------------------------------------------
  function init(root) {
    root = root || document;
    root.querySelectorAll("[data-when-field]").forEach(initWhen);
    root.querySelectorAll("select.kt-relation").forEach(initRelation);
    root.querySelectorAll("form[data-dirty-warning]").forEach(watchDirty);
    root.querySelectorAll("#kt-calendar").forEach(initCalendar);
    root.querySelectorAll("canvas.kt-chart").forEach(initChart);
    if (root === document) { updateSelection(); }
  }
  if (window.htmx) {
    htmx.onLoad(function (el) { init(el.querySelectorAll ? el : document); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
