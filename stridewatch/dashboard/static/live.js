// stridewatch dashboard: refresh the page's live region when an alert or an acknowledgement
// arrives (Server-Sent Events from /events), and remember the coach's name for the next form.
(function () {
  "use strict";

  function rememberName(root) {
    var saved = window.localStorage ? localStorage.getItem("stridewatch-coach") : null;
    root.querySelectorAll("input[data-coach-name]").forEach(function (input) {
      if (saved && !input.value) { input.value = saved; }
    });
  }
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector("input[data-coach-name]");
    if (input && window.localStorage) { localStorage.setItem("stridewatch-coach", input.value); }
  });
  rememberName(document);
  // on a narrow screen a chart scrolls sideways: show its latest days first
  document.querySelectorAll(".chart-scroll").forEach(function (box) { box.scrollLeft = box.scrollWidth; });

  var region = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!region || !window.EventSource) { return; }

  var timer = null;
  var waiting = "";
  function busy() {
    // never swap the region under a coach who is typing in it
    var active = document.activeElement;
    return active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }
  function refresh(what) {
    waiting = what;
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (busy()) { return; }
      fetch(window.location.href, { headers: { "Accept": "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("live");
          if (!fresh) { return; }
          region.innerHTML = fresh.innerHTML;
          rememberName(region);
          status.textContent = waiting + " (updated " + new Date().toLocaleTimeString() + ")";
          waiting = "";
          region.dispatchEvent(new CustomEvent("stridewatch:refreshed", { bubbles: true }));
        });
    }, 300);  // a burst of messages gives one refresh
  }
  region.addEventListener("focusout", function () { if (waiting) { refresh(waiting); } });

  var source = new EventSource(region.getAttribute("data-events"));
  source.addEventListener("alert", function (event) {
    var alert = JSON.parse(event.data);
    refresh("Risk for " + alert.athlete + " is now " + String(alert.level).toUpperCase());
  });
  source.addEventListener("ack", function (event) {
    var ack = JSON.parse(event.data);
    refresh(ack.by + " acknowledged the alert for " + ack.athlete);
  });
  source.addEventListener("changed", function () { refresh("Alerts changed"); });
})();
