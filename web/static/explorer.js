/* statetech explorer: typeahead on search and entity fields (progressive enhancement: every form works without it).
 *
 * Results arrive as JSON from /api/search and are put into the page with textContent only, never as HTML.
 */
(function () {
  "use strict";

  var DELAY_MS = 120;
  var MIN_CHARS = 2;
  var counter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function entityUrl(id) {
    return "/entity/" + encodeURIComponent(id).replace(/%3A/gi, ":");
  }

  function attach(input) {
    var mode = input.getAttribute("data-typeahead");  // "go": open the entity page; "fill": put the id in the field
    var kinds = input.getAttribute("data-kinds") || "";
    var listId = "typeahead-" + (++counter);
    var wrap = el("span", "typeahead-wrap");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var list = el("ul", "typeahead");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    wrap.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    var timer = null;
    var latest = 0;
    var items = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) { input.setAttribute("aria-activedescendant", options[index].id); }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      if (mode === "go") {
        window.location.href = entityUrl(item.id);
      } else {
        input.value = item.id;
        close();
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    function show(results) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items = results;
      if (!results.length) { close(); return; }
      results.forEach(function (item, index) {
        var option = el("li");
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("data-id", item.id);
        option.appendChild(el("span", "ta-name", item.name));
        option.appendChild(el("span", "kind", item.kind));
        option.appendChild(el("span", "ta-id", item.id));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    function lookup() {
      var text = input.value.trim();
      if (text.length < MIN_CHARS) { close(); return; }
      var ticket = ++latest;
      var url = "/api/search?limit=8&q=" + encodeURIComponent(text) + (kinds ? "&kinds=" + encodeURIComponent(kinds) : "");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (ticket === latest) { show(data.results || []); } })
        .catch(function () { if (ticket === latest) { close(); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-typeahead]");
    for (var i = 0; i < inputs.length; i++) { attach(inputs[i]); }
    document.body.setAttribute("data-explorer-ready", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
