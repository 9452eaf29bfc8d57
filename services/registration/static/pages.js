// The behaviour of the service's own pages (back office, self-service page), from a file
// so that their Content-Security-Policy allows no inline script (shared/web.py). Each page
// works without it.
(function () {
  "use strict";
  // A form whose action cannot be undone asks first: <form data-confirm="Question?">
  // (without JavaScript the form posts at once).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // At the door (participants): the list narrows as a name is typed, without waiting for
  // the server (the Filter button still searches on the server, also without JavaScript).
  var search = document.getElementById("q");
  var table = document.getElementById("participants");
  if (search && table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[id]"));
    var plain = function (text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); };
    search.addEventListener("input", function () {
      var wanted = plain(search.value.trim());
      rows.forEach(function (row) { row.hidden = wanted !== "" && plain(row.textContent).indexOf(wanted) === -1; });
    });
  }
})();
