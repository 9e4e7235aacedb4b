// 人员选择: choose people by name or unit instead of typing usernames (知悉范围). An <input
// data-people-picker="single"> takes one username (the item page's 加入知悉范围); "multi" a comma list
// (立项's designees). The input stays the form's field, hidden behind a search box; without script it
// is a plain text box for usernames. Searches GET /api/v1/users?q=, which only the office and
// administrators may use.
(function () {
  "use strict";
  var DELAY_MS = 250;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function label(person) {
    return person.name + (person.unit_name ? "（" + person.unit_name + "）" : "");
  }

  function picker(field) {
    var multi = field.dataset.peoplePicker === "multi";
    var chosen = [];  // {username, name, unit_name}
    var box = el("div", "people-picker");
    var chips = el("ul", "chips");
    var search = el("input", "people-search");
    var list = el("ul", "people-results");
    var timer = null;
    var listId = "people-results-" + Math.random().toString(36).slice(2);
    search.type = "search";
    search.placeholder = field.placeholder || "输入姓名或单位查找";
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-autocomplete", "list");
    search.setAttribute("aria-expanded", "false");
    search.setAttribute("aria-controls", listId);
    search.id = listId + "-search";
    var wrapping = field.closest("label");
    // The label names the search box: without `for`, a click inside it would go to its first button
    // (a chosen person's ×) and take that person out again.
    if (wrapping) wrapping.htmlFor = search.id; else search.setAttribute("aria-label", "查找人员");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    field.type = "hidden";
    field.parentNode.insertBefore(box, field.nextSibling);
    if (multi) box.appendChild(chips);
    box.appendChild(search);
    box.appendChild(list);

    function sync() {
      field.value = chosen.map(function (p) { return p.username; }).join(",");
      chips.innerHTML = "";
      chosen.forEach(function (person, index) {
        var chip = el("li", "chip", label(person));
        chip.dataset.username = person.username;
        var remove = el("button", "chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", "移除 " + person.name);
        remove.addEventListener("click", function () { chosen.splice(index, 1); sync(); search.focus(); });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    function close() { list.hidden = true; search.setAttribute("aria-expanded", "false"); }

    function choose(person) {
      if (multi) {
        if (!chosen.some(function (p) { return p.username === person.username; })) chosen.push(person);
        search.value = "";
      } else {
        chosen = [person];
        search.value = label(person);
      }
      sync();
      close();
      search.focus();
    }

    function show(people) {
      list.innerHTML = "";
      if (!people.length) {
        list.appendChild(el("li", "empty", "没有找到在用的人员"));
      }
      people.forEach(function (person) {
        var option = el("li", "person");
        option.setAttribute("role", "option");
        option.tabIndex = -1;
        option.dataset.username = person.username;
        option.appendChild(el("strong", null, person.name));
        if (person.unit_name) option.appendChild(el("small", null, person.unit_name));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(person); });
        option.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); choose(person); }
          if (event.key === "ArrowDown" && option.nextSibling) option.nextSibling.focus();
          if (event.key === "ArrowUp") (option.previousSibling || search).focus();
          if (event.key === "Escape") { close(); search.focus(); }
        });
        list.appendChild(option);
      });
      list.hidden = false;
      search.setAttribute("aria-expanded", "true");
    }

    function lookUp() {
      var query = search.value.trim();
      if (!multi) { chosen = []; field.value = ""; }
      if (!query) { close(); return; }
      fetch("/api/v1/users?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (people) { if (search.value.trim() === query) show(people); });
    }

    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookUp, DELAY_MS); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden && list.querySelector(".person")) {
        event.preventDefault();
        list.querySelector(".person").focus();
      }
      if (event.key === "Enter" && !list.hidden && list.querySelector(".person")) {
        event.preventDefault();  // Enter picks the first match rather than submitting half a choice
        list.querySelector(".person").dispatchEvent(new MouseEvent("mousedown"));
      }
      if (event.key === "Escape") close();
    });
    search.addEventListener("blur", function () { setTimeout(close, 150); });

    // What the field held (a form sent back with an error): usernames, shown by name once found.
    (field.value || "").split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean).forEach(function (name) {
      chosen.push({ username: name, name: name });
      fetch("/api/v1/users?q=" + encodeURIComponent(name), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (people) {
          var found = people.filter(function (p) { return p.username === name; })[0];
          if (!found) return;
          chosen = chosen.map(function (p) { return p.username === name ? found : p; });
          sync();
          if (!multi) search.value = label(found);
        });
    });
    sync();
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-people-picker]"), picker);
})();
