// Chinese for the form-js viewer on the task and 发起 pages, and Beijing time for its date-time fields.
// form-js 1.23 has no translate service: its validation messages are translated where they are made (the
// form's validator), the texts it writes into its markup (placeholders, dropdown texts, buttons) by a
// MutationObserver, and its date picker (flatpickr, which form-viewer.umd.js puts on window.flatpickr) takes
// the Chinese locale with weeks from Monday. Load after form-viewer.umd.js and app.js, before the page script.
(function () {
  "use strict";

  var WORDS = {
    "Field is required.": "此项必填。",
    "Value is not a number.": "请输入数字。",
    "Value is expected to be an integer.": "请输入整数。",
    "Min validation value is not a valid number.": "表单的最小值设置有误。",
    "Max validation value is not a valid number.": "表单的最大值设置有误。",
    "Field must be a valid email.": "请输入有效的电子邮箱地址。",
    "Field must be a valid  international phone number. (e.g. +4930664040900)": "请输入有效的电话号码（含国际区号，如 +8610xxxxxxxx）。",
    "Document reference is not defined.": "未指定文档。",
    "Search": "搜索",
    "Select": "请选择",
    "No results": "无匹配项",
    "All values selected": "已全部选择",
    "Remove tag": "移除",
    "Skip to search": "跳到搜索框",
    "Nothing to show.": "暂无数据。",
    "Browse": "选择文件",
    "No files selected": "未选择文件",
    "Increment": "增加",
    "Decrement": "减少",
    "Previous page": "上一页",
    "Next page": "下一页",
    "Unable to download document": "文档无法下载",
    "hh:mm": "时:分",
    "hh:mm --": "时:分 上午/下午"
  };

  // Texts form-js builds around a value.
  var PATTERNS = [
    [/^Field must have minimum length of (\d+)\.$/, "至少 $1 个字。"],
    [/^Field must have maximum length of (\d+)\.$/, "不得超过 $1 个字。"],
    [/^Field must have minimum value of (.+)\.$/, "不得小于 $1。"],
    [/^Field must have maximum value of (.+)\.$/, "不得大于 $1。"],
    [/^Field must match pattern .+\.$/, "格式不符合要求。"],
    [/^Value is expected to have at most (\d+) decimal digits?\.$/, "最多保留 $1 位小数。"],
    [/^Please select a valid value, the two nearest valid values are (.+) and (.+)\.$/, "请输入有效值，最接近的是 $1 和 $2。"],
    [/^(\d+) files selected$/, "已选择 $1 个文件"],
    [/^Download (.+)$/, "下载 $1"],
    [/^Remove list item (\d+)$/, "删除第 $1 项"],
    // The date field's placeholder is the browser's date format spelled in letters (yyyy/mm/dd).
    [/^(?=.*y)(?=.*m)(?=.*d)[ymd]+([./-])[ymd]+\1[ymd]+$/, function (format) {
      return format.replace(/y+/, "年").replace(/m+/, "月").replace(/d+/, "日");
    }]
  ];

  function translate(text) {
    if (typeof text !== "string") return text;
    var trimmed = text.trim();
    if (Object.prototype.hasOwnProperty.call(WORDS, trimmed)) return text.replace(trimmed, WORDS[trimmed]);
    for (var i = 0; i < PATTERNS.length; i++) {
      if (PATTERNS[i][0].test(trimmed)) return text.replace(trimmed, trimmed.replace(PATTERNS[i][0], PATTERNS[i][1]));
    }
    return text;
  }

  var ATTRIBUTES = ["placeholder", "title", "aria-label"];

  function translateNode(node) {
    if (node.nodeType === 3) {
      var text = translate(node.nodeValue);
      if (text !== node.nodeValue) node.nodeValue = text;
      return;
    }
    if (node.nodeType !== 1) return;
    ATTRIBUTES.forEach(function (name) {
      var value = node.getAttribute(name);
      var text = value && translate(value);
      if (text && text !== value) node.setAttribute(name, text);
    });
    node.childNodes.forEach(translateNode);
  }

  // Texts in the form's markup now and whenever form-js redraws it.
  function translateMarkup(container) {
    translateNode(container);
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "childList") record.addedNodes.forEach(translateNode);
        else translateNode(record.target);
      });
    }).observe(container, { childList: true, subtree: true, characterData: true, attributes: true,
                            attributeFilter: ATTRIBUTES });
  }

  // Validation messages as they are made, so the form's state (and form.submit()'s errors) are Chinese.
  function translateValidator(form) {
    var validator = form.get("validator");
    ["validateField", "validateFieldInstance"].forEach(function (name) {
      var original = validator[name];
      validator[name] = function () { return original.apply(validator, arguments).map(translate); };
    });
  }

  var ZH = {
    weekdays: { shorthand: ["日", "一", "二", "三", "四", "五", "六"],
                longhand: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"] },
    months: { shorthand: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
              longhand: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"] },
    firstDayOfWeek: 1, rangeSeparator: " 至 ", weekAbbreviation: "周", scrollTitle: "滚动切换",
    toggleTitle: "点击切换上午/下午", amPM: ["上午", "下午"], yearAriaLabel: "年", monthAriaLabel: "月",
    hourAriaLabel: "时", minuteAriaLabel: "分", ariaDateFormat: "Y年n月j日"
  };
  if (window.flatpickr) window.flatpickr.localize(ZH);

  // --- Beijing time for date-time fields ---------------------------------------------------------------------
  // form-js shows and writes a date-time in the browser's time zone; a 督办 limit is Beijing time wherever the
  // browser is. Values go into the picker as Beijing wall-clock time (no offset, read as local) and come out
  // with the picked wall-clock time in Beijing (+08:00).
  var BEIJING_MS = 8 * 3600 * 1000;

  function dateTimeKeys(components, keys) {
    (components || []).forEach(function (field) {
      if (field.type === "datetime" && field.subtype === "datetime" && field.key) keys.push(field.key);
      if (field.components) dateTimeKeys(field.components, keys);
    });
    return keys;
  }

  function fieldKeys(components, keys) {
    (components || []).forEach(function (field) {
      if (field.key) keys[field.key] = true;
      if (field.components) fieldKeys(field.components, keys);
    });
    return keys;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  var ISO_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/;

  function beijingWallClock(iso) {
    var at = new Date(new Date(iso).getTime() + BEIJING_MS);
    return at.getUTCFullYear() + "-" + pad(at.getUTCMonth() + 1) + "-" + pad(at.getUTCDate()) + "T" +
      pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes());
  }

  function pickedInBeijing(value) {
    var at = new Date(value);
    if (isNaN(at.getTime())) return value;
    return at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) + "T" +
      pad(at.getHours()) + ":" + pad(at.getMinutes()) + "+08:00";
  }

  // The data a form opens with: date-time fields as Beijing wall-clock time; other date-times (shown in the
  // form's texts, never submitted) as people read them.
  function toForm(schema, data) {
    var copy = Object.assign({}, data || {});
    var pickers = dateTimeKeys(schema && schema.components, []);
    var fields = fieldKeys(schema && schema.components, {});
    Object.keys(copy).forEach(function (key) {
      var value = copy[key];
      if (typeof value !== "string" || !ISO_DATETIME.test(value)) return;
      if (pickers.indexOf(key) >= 0) copy[key] = beijingWallClock(value);
      else if (!fields[key] && window.duban && window.duban.when) copy[key] = window.duban.when(value);
    });
    return copy;
  }

  // The data a form sends: date-time fields as the picked time in Beijing.
  function fromForm(schema, data) {
    var copy = Object.assign({}, data);
    dateTimeKeys(schema && schema.components, []).forEach(function (key) {
      if (typeof copy[key] === "string" && ISO_DATETIME.test(copy[key])) copy[key] = pickedInBeijing(copy[key]);
    });
    return copy;
  }

  // A new FormViewer.Form in Chinese. Typing goes into the form's data at once: form-js otherwise holds a
  // text field's value back for 300 ms, and a 提交 inside that pause could check the value before it.
  function chineseForm(container) {
    var form = new FormViewer.Form({ container: container, debounce: false });
    translateValidator(form);
    translateMarkup(container);
    return form;
  }

  window.dubanForms = { create: chineseForm, translate: translate, toForm: toForm, fromForm: fromForm };
})();
