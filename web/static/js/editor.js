/* Studio: writing Markdown without knowing it. Every textarea with data-markdown has a formatting
   bar above it (rendered hidden by the page, shown here): bold, italic, heading, list, link and
   image, as a WAI-ARIA toolbar (one tab stop, arrow keys between the buttons), with Ctrl/Cmd+B,
   +I and +K in the text. Changes go in through the browser's own editing (execCommand
   "insertText"), so Ctrl+Z undoes them and the live preview of studio.js hears the input event.
   Text pasted with formatting (Word, Google Docs, a web page) arrives as Markdown, converted by
   Turndown (vendor/turndown) after Word's and Docs' own markup is cleaned away. */
(function () {
  "use strict";

  /* ---- HTML on the clipboard, to Markdown ------------------------------------------------ */

  var DROP = "style, script, meta, link, title, template, iframe, object, embed, svg, math, xml";
  var LIST_MARKER = /^\s*(?:\d+|[a-z]|[ivxlcdm]+)[.)]/i;

  function styleOf(node) {
    return (node.getAttribute && (node.getAttribute("data-style") || "").toLowerCase().replace(/\s+/g, "")) || "";
  }

  function unwrap(node) {
    var parent = node.parentNode;
    while (node.firstChild) {
      parent.insertBefore(node.firstChild, node);
    }
    parent.removeChild(node);
  }

  function rename(node, tag) {
    var renamed = node.ownerDocument.createElement(tag);
    while (node.firstChild) {
      renamed.appendChild(node.firstChild);
    }
    node.parentNode.replaceChild(renamed, node);
    return renamed;
  }

  function each(root, selector, action) {
    Array.prototype.slice.call(root.querySelectorAll(selector)).forEach(action);
  }

  function comments(root) {
    var walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
    var found = [];
    while (walker.nextNode()) {
      found.push(walker.currentNode);
    }
    return found;
  }

  /* Word writes a list as paragraphs styled "mso-list: l0 level1", each starting with its
     bullet or number as text, marked as such by a span with "mso-list: Ignore" or by the
     conditional comments [if !supportLists] … [endif]. Returns the marker's text and removes it. */
  function takeWordMarker(paragraph) {
    var text = "";
    comments(paragraph).forEach(function (comment) {
      if (!comment.parentNode || !/^\[if !supportLists\]/i.test(comment.data)) {
        return;
      }
      var node = comment.nextSibling;
      while (node && !(node.nodeType === 8 && /^\[endif\]/i.test(node.data))) {
        var next = node.nextSibling;
        text += node.textContent;
        node.parentNode.removeChild(node);
        node = next;
      }
    });
    each(paragraph, "span", function (span) {
      if (span.isConnected && styleOf(span).indexOf("mso-list:ignore") !== -1) {
        text += span.textContent;
        span.parentNode.removeChild(span);
      }
    });
    return text;
  }

  function wordListItem(node) {
    if (node.nodeType !== 1 || node.nodeName !== "P") {
      return null;
    }
    var style = styleOf(node);
    var level = /mso-list:[^;]*level(\d+)/.exec(style);
    if (!level && !/MsoListParagraph/i.test(node.className)) {
      return null;
    }
    var marker = takeWordMarker(node);
    return { node: node, level: level ? Number(level[1]) : 1, ordered: LIST_MARKER.test(marker) };
  }

  function buildList(doc, items) {
    var root = null;
    var open = [];
    items.forEach(function (item) {
      while (open.length && open[open.length - 1].level > item.level) {
        open.pop();
      }
      var top = open[open.length - 1];
      if (!top || top.level < item.level) {
        var list = doc.createElement(item.ordered ? "ol" : "ul");
        if (top) {
          (top.list.lastElementChild || top.list).appendChild(list);
        } else {
          root = list;
        }
        top = { list: list, level: item.level };
        open.push(top);
      }
      var li = doc.createElement("li");
      while (item.node.firstChild) {
        li.appendChild(item.node.firstChild);
      }
      top.list.appendChild(li);
    });
    return root;
  }

  /* Consecutive list paragraphs (siblings) become one list, nested by their level. */
  function wordLists(doc) {
    var items = [];
    each(doc.body, "p", function (paragraph) {
      var item = wordListItem(paragraph);
      if (item) {
        items.push(item);
      }
    });
    var group = [];
    function flush() {
      if (group.length) {
        var first = group[0].node;
        first.parentNode.insertBefore(buildList(doc, group), first);
        group.forEach(function (item) { item.node.parentNode.removeChild(item.node); });
      }
      group = [];
    }
    items.forEach(function (item) {
      var last = group[group.length - 1];
      if (last && last.node.nextElementSibling !== item.node) {
        flush();
      }
      group.push(item);
    });
    flush();
  }

  /* Kern shows pictures from its own address only (the Content Security Policy's img-src): an
     address on this site as a path, or "" for any other. */
  function ownAddress(text) {
    var trimmed = text.trim();
    var origin = window.location.origin;
    if (trimmed.indexOf(origin + "/") === 0) {
      trimmed = trimmed.slice(origin.length);
    }
    return /^\/[^/\\]/.test(trimmed) ? trimmed : "";
  }

  function isBold(style) {
    var weight = /font-weight:(\w+)/.exec(style);
    return !!weight && (weight[1] === "bold" || weight[1] === "bolder" || Number(weight[1]) >= 600);
  }

  /* The clipboard's HTML as a clean <body>: only structure and emphasis, nothing of Word's or
     Docs' styling, comments, empty paragraphs or pictures on her own disk. */
  function cleanHtml(html) {
    // The parsed copy lives under the page's Content Security Policy, which refuses inline
    // styles (and says so in the console); they are only read here, so they are renamed first.
    var inert = html.replace(/<style[\s\S]*?<\/style\s*>/gi, "")
      .replace(/(<[a-z][^<>]*?\s)style(\s*=)/gi, "$1data-style$2");
    var doc = new DOMParser().parseFromString(inert, "text/html");
    var body = doc.body;
    each(doc, DROP, function (node) { node.parentNode.removeChild(node); });
    wordLists(doc);
    comments(body).forEach(function (comment) { comment.parentNode.removeChild(comment); });
    // Office's own elements (<o:p>, <v:shape>, <w:sdt>) hold filler or drawings.
    each(body, "*", function (node) {
      if (node.isConnected && node.nodeName.indexOf(":") !== -1) {
        node.parentNode.removeChild(node);
      }
    });
    each(body, "p.MsoTitle", function (node) { rename(node, "h1"); });
    // Google Docs wraps everything in <b style="font-weight:normal"> and marks emphasis on spans.
    each(body, "b, strong", function (node) {
      if (/font-weight:(normal|[1-5]00)/.test(styleOf(node))) {
        unwrap(node);
      }
    });
    each(body, "span, font", function (node) {
      var style = styleOf(node);
      var target = node;
      if (isBold(style)) {
        target = rename(node, "strong");
      }
      if (/font-style:italic/.test(style)) {
        var em = doc.createElement("em");
        while (target.firstChild) {
          em.appendChild(target.firstChild);
        }
        target.appendChild(em);
      }
      if (target === node) {
        unwrap(node);
      }
    });
    each(body, "a", function (link) {
      var href = (link.getAttribute("href") || "").trim();
      if (!/^(https?:|mailto:|\/[^/])/i.test(href)) {
        unwrap(link); // Word's bookmarks and table-of-contents jumps, scripts
      }
    });
    each(body, "img", function (image) {
      var src = ownAddress(image.getAttribute("src") || "");
      if (src) {
        image.setAttribute("src", src);
      } else {
        image.parentNode.removeChild(image); // a picture on her disk or on another site
      }
    });
    each(body, "p, div, h1, h2, h3, h4, h5, h6, li, strong, em, b, i", function (node) {
      if (node.isConnected && !node.querySelector("img") && !node.textContent.replace(/[\s\u00a0]+/g, "")) {
        node.parentNode.removeChild(node);
      }
    });
    return body;
  }

  var turndown = null;

  function converter() {
    if (turndown || !window.TurndownService) {
      return turndown;
    }
    turndown = new window.TurndownService({
      headingStyle: "atx",
      bulletListMarker: "-",
      emDelimiter: "*",
      strongDelimiter: "**",
      codeBlockStyle: "fenced",
      hr: "---"
    });
    // Kern's lessons start at ## (the page's title is the only level one), down to ####.
    turndown.addRule("heading", {
      filter: ["h1", "h2", "h3", "h4", "h5", "h6"],
      replacement: function (content, node) {
        var level = Math.min(Number(node.nodeName.charAt(1)) + 1, 4);
        return "\n\n" + "#".repeat(level) + " " + content.replace(/\s*\n\s*/g, " ").trim() + "\n\n";
      }
    });
    // "- item" and "1. item", as a person types them, rather than Turndown's "-   item".
    turndown.addRule("listItem", {
      filter: "li",
      replacement: function (content, node) {
        var prefix = "- ";
        var parent = node.parentNode;
        if (parent.nodeName === "OL") {
          var start = Number(parent.getAttribute("start") || 1);
          prefix = start + Array.prototype.indexOf.call(parent.children, node) + ". ";
        }
        content = content.replace(/^\n+/, "").replace(/\n+$/, "\n").replace(/\n(?!$)/g, "\n" + " ".repeat(prefix.length));
        return prefix + content + (node.nextSibling && !/\n$/.test(content) ? "\n" : "");
      }
    });
    return turndown;
  }

  /* Markdown for the clipboard's HTML; "" when it holds nothing worth keeping. */
  function htmlToMarkdown(html) {
    var service = converter();
    if (!service) {
      return "";
    }
    var markdown = service.turndown(cleanHtml(html));
    return markdown.replace(/\u00a0/g, " ").replace(/[ \t]+$/gm, function (spaces) {
      return spaces.length >= 2 ? "  " : ""; // two spaces end a line on purpose (a line break)
    }).replace(/\n{3,}/g, "\n\n").trim();
  }

  window.KernEditor = { htmlToMarkdown: htmlToMarkdown };

  /* ---- editing the text ------------------------------------------------------------------ */

  /* Replace value[start:end] by text as typing would (undo keeps working, "input" fires), then
     select selStart..selEnd. */
  function replace(textarea, start, end, text, selStart, selEnd) {
    textarea.focus();
    textarea.setSelectionRange(start, end);
    var done = false;
    try {
      done = document.execCommand(text ? "insertText" : "delete", false, text);
    } catch (error) {
      done = false;
    }
    if (!done) {
      textarea.setRangeText(text, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    textarea.setSelectionRange(selStart, selEnd);
  }

  function run(text, at, step) {
    var count = 0;
    while (text.charAt(at + count * step + (step < 0 ? -1 : 0)) === "*") {
      count += 1;
    }
    return count;
  }

  /* Bold (**) or italic (*) around the selection, or taken away when it is already there. */
  function emphasis(textarea, marker) {
    var value = textarea.value;
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    while (start < end && /\s/.test(value.charAt(start))) { start += 1; }
    while (end > start && /\s/.test(value.charAt(end - 1))) { end -= 1; }
    var size = marker.length;
    // Stars around the selection: ** is bold, * italic, *** both.
    var before = run(value, start, -1);
    var after = run(value, end, 1);
    var around = Math.min(before, after);
    if (around === size || around === 3) {
      var inner = value.slice(start, end);
      replace(textarea, start - size, end + size, inner, start - size, end - size);
      return;
    }
    var selected = value.slice(start, end);
    if (selected.indexOf("\n") !== -1) {
      // Emphasis cannot span paragraphs: mark each line.
      var marked = selected.split("\n").map(function (line) {
        var match = /^(\s*)(.*?)(\s*)$/.exec(line);
        return match[2] ? match[1] + marker + match[2] + marker + match[3] : line;
      }).join("\n");
      replace(textarea, start, end, marked, start, start + marked.length);
      return;
    }
    replace(textarea, start, end, marker + selected + marker, start + size, end + size);
  }

  var LIST_LINE = /^(\s*)(?:[-*+]|\d+[.)])\s+/;
  var HEADING_LINE = /^#{1,6}\s+/;

  /* A heading or a list: changes the whole lines the selection touches. */
  function lines(textarea, kind) {
    var value = textarea.value;
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    if (end > start && value.charAt(end - 1) === "\n") {
      end -= 1;
    }
    var from = value.lastIndexOf("\n", start - 1) + 1;
    var to = value.indexOf("\n", end);
    if (to === -1) {
      to = value.length;
    }
    var block = value.slice(from, to).split("\n");
    var pattern = kind === "list" ? LIST_LINE : HEADING_LINE;
    var filled = block.filter(function (line) { return line.trim(); });
    var off = filled.length > 0 && filled.every(function (line) { return pattern.test(line); });
    var changed = block.map(function (line) {
      if (off) {
        return line.replace(pattern, kind === "list" ? "$1" : "");
      }
      if (!line.trim() && block.length > 1) {
        return line;
      }
      var bare = line.replace(HEADING_LINE, "").replace(LIST_LINE, "");
      return (kind === "list" ? "- " : "## ") + bare;
    }).join("\n");
    if (start === textarea.selectionEnd) {
      var caret = from + changed.length;
      replace(textarea, from, to, changed, caret, caret);
    } else {
      replace(textarea, from, to, changed, from, from + changed.length);
    }
  }

  function address(text) {
    var trimmed = text.trim();
    if (/^www\./i.test(trimmed)) {
      trimmed = "https://" + trimmed;
    }
    return trimmed.replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29");
  }

  function words(text) {
    return text.replace(/\s+/g, " ").trim().replace(/([[\]\\])/g, "\\$1");
  }

  function showProblem(field, problem, shown) {
    if (!problem) {
      return;
    }
    problem.hidden = !shown;
    var hint = field.getAttribute("data-hint");
    if (shown) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", problem.id + " " + hint);
    } else {
      field.removeAttribute("aria-invalid");
      field.setAttribute("aria-describedby", hint);
    }
  }

  /* [text](address) or ![description](address), asked for in the page's small dialog. The
     dialog remembers which text it is for; the answer goes in as soon as she presses "Insert",
     in the same task that closes the dialog, so a key she presses next lands in the text. */
  function ask(textarea, kind) {
    var dialog = document.getElementById("md-" + kind + "-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return;
    }
    var form = dialog.querySelector("form");
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    var selected = textarea.value.slice(start, end).trim();
    form.reset();
    showProblem(form.elements.address, dialog.querySelector("[data-md-problem]"), false);
    form.elements.text.value = selected;
    dialog.kernFor = { textarea: textarea, start: start, end: end };
    dialog.showModal();
    (selected && kind === "link" ? form.elements.address : form.elements.text).focus();
  }

  function answered(dialog, kind, event) {
    var form = event.target;
    var pending = dialog.kernFor;
    var field = form.elements.address;
    var cancelled = event.submitter && event.submitter.value === "cancel";
    event.preventDefault();
    if (!cancelled && kind === "image") {
      // A picture from another site would not show (img-src 'self'): she is told why.
      var bad = !ownAddress(field.value);
      showProblem(field, dialog.querySelector("[data-md-problem]"), bad);
      if (bad) {
        field.focus();
        return;
      }
    }
    dialog.kernFor = null;
    dialog.close();
    if (!pending) {
      return;
    }
    var textarea = pending.textarea;
    if (cancelled || !field.value.trim()) {
      textarea.focus();
      textarea.setSelectionRange(pending.start, pending.end);
      return;
    }
    var href = kind === "image" ? ownAddress(field.value) : address(field.value);
    var label = words(form.elements.text.value) || (kind === "image" ? "" : words(field.value));
    var markdown = (kind === "image" ? "!" : "") + "[" + label + "](" + href + ")";
    var after = pending.start + markdown.length;
    replace(textarea, pending.start, pending.end, markdown, after, after);
  }

  function setUpDialog(kind) {
    var dialog = document.getElementById("md-" + kind + "-dialog");
    if (!dialog) {
      return;
    }
    dialog.querySelector("form").addEventListener("submit", function (event) {
      answered(dialog, kind, event);
    });
    // Escape: back to the text, where she was.
    dialog.addEventListener("close", function () {
      if (dialog.open) {
        return; // opened again before this event came
      }
      var pending = dialog.kernFor;
      dialog.kernFor = null;
      if (pending) {
        pending.textarea.focus();
        pending.textarea.setSelectionRange(pending.start, pending.end);
      }
    });
  }

  function act(textarea, action) {
    if (action === "bold") {
      emphasis(textarea, "**");
    } else if (action === "italic") {
      emphasis(textarea, "*");
    } else if (action === "heading" || action === "list") {
      lines(textarea, action);
    } else if (action === "link" || action === "image") {
      ask(textarea, action);
    }
  }

  /* ---- the toolbar ----------------------------------------------------------------------- */

  var SHORTCUTS = { b: "bold", i: "italic", k: "link" };

  function connect(toolbar) {
    var textarea = document.getElementById(toolbar.getAttribute("aria-controls"));
    if (!textarea) {
      return;
    }
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button"));

    function focusButton(index) {
      var target = buttons[(index + buttons.length) % buttons.length];
      buttons.forEach(function (button) { button.tabIndex = button === target ? 0 : -1; });
      target.focus();
    }

    buttons.forEach(function (button, index) {
      button.tabIndex = index === 0 ? 0 : -1;
      button.addEventListener("click", function () {
        buttons.forEach(function (other) { other.tabIndex = other === button ? 0 : -1; });
        act(textarea, button.getAttribute("data-md"));
      });
    });

    toolbar.addEventListener("keydown", function (event) {
      var index = buttons.indexOf(document.activeElement);
      if (index === -1) {
        return;
      }
      var moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: buttons.length - 1 };
      if (Object.prototype.hasOwnProperty.call(moves, event.key)) {
        event.preventDefault();
        focusButton(moves[event.key]);
      }
    });

    textarea.addEventListener("keydown", function (event) {
      var action = SHORTCUTS[event.key.toLowerCase()];
      if (action && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        act(textarea, action);
      }
    });

    textarea.addEventListener("paste", function (event) {
      var html = event.clipboardData && event.clipboardData.getData("text/html");
      var markdown = html ? htmlToMarkdown(html) : "";
      if (!markdown) {
        return; // plain text, or nothing worth keeping: the browser pastes as usual
      }
      event.preventDefault();
      var start = textarea.selectionStart;
      replace(textarea, start, textarea.selectionEnd, markdown, start + markdown.length, start + markdown.length);
    });

    toolbar.hidden = false;
  }

  document.querySelectorAll("[data-md-toolbar]").forEach(connect);
  setUpDialog("link");
  setUpDialog("image");
})();
