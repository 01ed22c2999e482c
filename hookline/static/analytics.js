// Analytics dashboards: draw the Plotly figures the page carries as JSON, open the line
// under a clicked retention point in the review page, and apply filters on change.
(function () {
  "use strict";

  function draw(element) {
    var source = document.getElementById(element.dataset.figure);
    if (!source || !window.Plotly) { return; }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      displaylogo: false,
      responsive: true,
      toImageButtonOptions: { format: "png", filename: element.id }
    });
    element.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var link = point && point.customdata && point.customdata[0];
      if (link) { window.location.assign(link); }
    });
  }

  function init() {
    document.querySelectorAll(".chart[data-figure]").forEach(draw);
    var form = document.getElementById("analytics-filters");
    if (form) {
      form.querySelectorAll("select").forEach(function (select) {
        select.addEventListener("change", function () { form.submit(); });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
