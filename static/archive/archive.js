/* The reading page's conveniences. Everything here is optional: without
   JavaScript every link still works and every citation is on the page.
   No build step, no inline script (a strict Content-Security-Policy). */
(function () {
  "use strict";

  var MLA_MONTHS = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July",
    "Aug.", "Sept.", "Oct.", "Nov.", "Dec."];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];

  /* A polite live region, so that "Copied" is heard as well as seen. */
  var status = document.createElement("p");
  status.className = "status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  document.body.appendChild(status);

  function say(message) {
    status.textContent = message;
    status.classList.add("status--shown");
    window.clearTimeout(say.timer);
    say.timer = window.setTimeout(function () {
      status.classList.remove("status--shown");
    }, 4000);
  }

  /* Access dates: the day the reader reads (and copies), never the day the
     page was cached. */
  function accessDate(style) {
    var d = new Date();
    if (style === "mla") {
      return d.getDate() + " " + MLA_MONTHS[d.getMonth()] + " " + d.getFullYear();
    }
    return MONTHS[d.getMonth()] + " " + d.getDate() + ", " + d.getFullYear();
  }
  document.querySelectorAll(".accessed").forEach(function (span) {
    span.textContent = accessDate(span.getAttribute("data-style"));
  });

  function copy(text, what) {
    function done() { say(what + " copied: " + text); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        say("Copy this " + what.toLowerCase() + ": " + text);
      });
    } else {
      /* Plain http on a LAN address: no clipboard API. */
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); }
      catch (e) { say("Copy this " + what.toLowerCase() + ": " + text); }
      area.remove();
    }
  }

  /* Copy buttons on citations and permalinks (hidden without script). */
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy");
      var text = id ? document.getElementById(id).textContent
        : button.getAttribute("data-copy-text");
      copy(text.replace(/\s+/g, " ").trim(),
        id ? "Citation" : "Link");
    });
  });

  /* Each turn gets a "copy link" button beside its number. */
  var transcript = document.querySelector(".transcript");
  if (transcript) {
    transcript.querySelectorAll(".turn__link").forEach(function (link) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "turn__copy";
      button.textContent = "Copy link";
      button.setAttribute("aria-label", "Copy link to turn " + link.textContent.slice(1));
      link.after(button);
    });
    transcript.addEventListener("click", function (event) {
      var button = event.target.closest(".turn__copy");
      if (button) {
        copy(button.previousElementSibling.href, "Link");
      }
    });
  }

  /* Passage links: select words inside a turn, get a link that lands on
     them (a standard text fragment, so it survives edits elsewhere). */
  function fragmentPart(words) {
    return encodeURIComponent(words).replace(/-/g, "%2D").replace(/,/g, "%2C");
  }

  function passageLink(turn, text) {
    var words = text.split(/\s+/).filter(Boolean);
    var directive = words.length > 10
      ? fragmentPart(words.slice(0, 4).join(" ")) + "," +
        fragmentPart(words.slice(-4).join(" "))
      : fragmentPart(words.join(" "));
    var link = turn.querySelector(".turn__link").href;
    return link + ":~:text=" + directive;
  }

  var passageButton = document.createElement("button");
  passageButton.type = "button";
  passageButton.className = "passage-button";
  passageButton.textContent = "Link to this passage";
  passageButton.hidden = true;
  document.body.appendChild(passageButton);

  function selectedPassage() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    var range = selection.getRangeAt(0);
    var start = range.startContainer.parentElement;
    var end = range.endContainer.parentElement;
    var body = start && start.closest(".turn__body");
    if (!body || !end || end.closest(".turn__body") !== body) return null;
    var text = selection.toString().replace(/\s+/g, " ").trim();
    if (text.length < 3) return null;
    return { turn: body.closest(".turn"), text: text, range: range };
  }

  document.addEventListener("selectionchange", function () {
    var found = selectedPassage();
    if (!found) { passageButton.hidden = true; return; }
    var box = found.range.getBoundingClientRect();
    passageButton.style.top = (window.scrollY + box.bottom + 6) + "px";
    passageButton.style.left = (window.scrollX + Math.max(8, box.left)) + "px";
    passageButton.hidden = false;
  });
  passageButton.addEventListener("mousedown", function (event) {
    event.preventDefault(); /* keep the selection */
  });
  passageButton.addEventListener("click", function () {
    var found = selectedPassage();
    if (!found) return;
    var link = passageLink(found.turn, found.text);
    passageButton.hidden = true;
    copy(link, "Passage link");
  });

  /* Arriving at a passage link. Browsers that support text fragments
     scroll to and highlight the words themselves; this marks them in the
     page as well, and does the scrolling where the browser cannot. */
  function decodePart(part) {
    try { return decodeURIComponent(part); } catch (e) { return part; }
  }

  function markPassage(turn, start, end) {
    var body = turn.querySelector(".turn__body");
    var walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    var nodes = [];
    var text = "";
    while (walker.nextNode()) {
      nodes.push({ node: walker.currentNode, at: text.length });
      text += walker.currentNode.data;
    }
    var folded = text.toLowerCase();
    var from = folded.indexOf(start.toLowerCase());
    if (from < 0) return false;
    var to = from + start.length;
    if (end) {
      var last = folded.indexOf(end.toLowerCase(), to);
      if (last < 0) return false;
      to = last + end.length;
    }
    /* Wrap each text node's share of [from, to) in a mark, last first so
       that offsets stay valid. */
    for (var i = nodes.length - 1; i >= 0; i--) {
      var n = nodes[i];
      var a = Math.max(from, n.at) - n.at;
      var b = Math.min(to, n.at + n.node.data.length) - n.at;
      if (a >= b) continue;
      var range = document.createRange();
      range.setStart(n.node, a);
      range.setEnd(n.node, b);
      var mark = document.createElement("mark");
      mark.className = "passage";
      range.surroundContents(mark);
    }
    return true;
  }

  function arrivalUrl() {
    /* Browsers that support text fragments hide them from location; the
       navigation entry keeps the address as it was followed. */
    var entry = performance.getEntriesByType &&
      performance.getEntriesByType("navigation")[0];
    var href = entry && entry.name && entry.name.indexOf(location.pathname) >= 0
      ? entry.name : location.href;
    return href;
  }

  function targetTurn(hash) {
    var match = /^#(t-\d+)/.exec(hash);
    var found = match ? document.getElementById(match[1]) : null;
    /* A joined turn's old anchor is an empty mark inside the turn. */
    return found ? found.closest(".turn") : null;
  }

  /* Land with the question above the answer in view, not flush at the top. */
  function showInContext(turn) {
    var question = null;
    var previous = turn.previousElementSibling;
    for (var i = 0; previous && i < 3; i++, previous = previous.previousElementSibling) {
      if (previous.classList.contains("turn--question")) { question = previous; break; }
    }
    if (turn.classList.contains("turn--question")) question = null;
    var top = turn.getBoundingClientRect().top + window.scrollY;
    var margin = window.innerHeight * 0.2;
    if (question) {
      var questionTop = question.getBoundingClientRect().top + window.scrollY;
      if (top + Math.min(turn.offsetHeight, window.innerHeight / 2) - questionTop <
          window.innerHeight * 0.9) {
        /* The whole question and the start of the answer fit. */
        top = questionTop;
        margin = 16;
      } else {
        /* A long question: its last lines, then the answer. */
        margin = Math.min(question.offsetHeight + 16, window.innerHeight * 0.45);
      }
    }
    window.scrollTo(0, Math.max(0, top - margin));
  }

  function arrive(href) {
    var hash = href.indexOf("#") >= 0 ? href.slice(href.indexOf("#")) : "";
    var turn = targetTurn(hash);
    if (!turn) return null;
    document.querySelectorAll(".turn--arrived").forEach(function (t) {
      t.classList.remove("turn--arrived");
    });
    turn.classList.add("turn--arrived");
    var directive = hash.indexOf(":~:text=");
    if (directive >= 0) {
      var parts = hash.slice(directive + 8).split("&")[0].split(",").map(decodePart);
      markPassage(turn, parts[0], parts[1]);
    }
    showInContext(turn);
    return turn;
  }

  if (transcript) {
    /* After layout, so the positions are right; and again once the page
       has loaded, since the browser's own jump to the fragment can come
       after ours and put the turn flush at the top. */
    var arrived = null;
    window.requestAnimationFrame(function () { arrived = arrive(arrivalUrl()); });
    window.addEventListener("load", function () {
      window.requestAnimationFrame(function () {
        if (arrived) showInContext(arrived);
        document.documentElement.setAttribute("data-arrived", arrived ? arrived.id : "");
      });
    });
    window.addEventListener("hashchange", function () { arrive(location.href); });
  }

  /* Previous / next hit inside an interview reached from a search. */
  var hits = Array.prototype.slice.call(document.querySelectorAll(".turn--matched"));
  var nav = document.querySelector(".hits-nav");
  if (nav && hits.length) {
    var current = -1;
    var counter = nav.querySelector(".hits-nav__where");
    var arrived = targetTurn(location.hash);
    if (arrived) current = hits.indexOf(arrived);

    var go = function (step) {
      if (current < 0) { current = step > 0 ? 0 : hits.length - 1; }
      else { current = (current + step + hits.length) % hits.length; }
      var id = hits[current].id;
      if (location.hash === "#" + id) { arrive(location.href); }
      else { location.hash = id; }
      counter.textContent = "Hit " + (current + 1) + " of " + hits.length;
      hits[current].querySelector(".turn__link").focus({ preventScroll: true });
    };
    nav.querySelector("[data-hit=prev]").addEventListener("click", function (event) {
      event.preventDefault(); go(-1);
    });
    nav.querySelector("[data-hit=next]").addEventListener("click", function (event) {
      event.preventDefault(); go(1);
    });
    document.addEventListener("keydown", function (event) {
      var typing = event.target.closest("input, textarea, select, [contenteditable]");
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "n" || event.key === "j") { go(1); }
      else if (event.key === "p" || event.key === "k") { go(-1); }
    });
  }
})();
