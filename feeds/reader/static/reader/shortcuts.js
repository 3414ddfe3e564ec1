/*
 * Keyboard shortcuts of the stream and entry pages (feeds.reader), as feed
 * readers have them: j/k next/previous, o or Enter open, s save, m read or
 * unread, Shift+A mark all as read, / search, ? the list of shortcuts.
 *
 * A progressive enhancement: every action is a link or a form that works
 * without JavaScript, and this file only drives them. Save and read toggles
 * are sent in place (fetch, with the form's own CSRF token) and fall back to
 * a plain form submission if that fails. No inline code, no eval: it runs
 * under the site's strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var current = null;

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function articles() {
    return Array.prototype.slice.call(document.querySelectorAll("article.entry[data-entry]"));
  }

  function setCurrent(article) {
    if (current) {
      current.classList.remove("is-current");
    }
    current = article;
    if (!article) {
      return;
    }
    article.classList.add("is-current");
    article.setAttribute("tabindex", "-1");
    article.focus();
    article.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = articles();
    if (!list.length) {
      return;
    }
    var index = current ? list.indexOf(current) : -1;
    var next = index === -1 ? (step > 0 ? 0 : list.length - 1) : index + step;
    if (next >= list.length) {
      // Past the last entry: load the older ones (htmx appends them in place).
      var older = document.querySelector('#stream-pager a[rel="next"]');
      if (older) {
        older.click();
      }
      return;
    }
    setCurrent(list[Math.max(next, 0)]);
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) {
      window.location.href = link.href;
    }
  }

  // A toggle form posts the state it would switch to: "1" means "make it read
  // (or saved)", so the item is in the "off" state now.
  function isOn(form) {
    var field = form.querySelector('input[name="read"], input[name="starred"]');
    return field !== null && field.value === "0";
  }

  function showState(form, on) {
    var field = form.querySelector('input[name="read"], input[name="starred"]');
    var button = form.querySelector("button");
    var label = button.querySelector("[data-label]");
    field.value = on ? "0" : "1";
    // The label says what the button does next (so no aria-pressed).
    label.textContent = on ? button.getAttribute("data-label-on") : button.getAttribute("data-label-off");
    if (form.getAttribute("data-reader") === "read") {
      var article = form.closest("article.entry");
      if (article) {
        article.classList.toggle("is-unread", !on);
        article.setAttribute("data-unread", on ? "0" : "1");
        var badge = article.querySelector(".badge-unread");
        if (on && badge) {
          badge.remove();
        } else if (!on && !badge) {
          badge = document.createElement("span");
          badge.className = "badge badge-unread";
          badge.textContent = form.getAttribute("data-badge");
          var meta = article.querySelector(".entry-meta");
          meta.insertBefore(document.createTextNode(" "), meta.firstChild);
          meta.insertBefore(badge, meta.firstChild);
        }
      }
    }
  }

  function toggle(form) {
    var target = !isOn(form);
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Reader-Fetch": "1" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function () {
        showState(form, target);
      })
      .catch(function () {
        form.submit();
      });
  }

  function formOf(kind) {
    if (current) {
      return current.querySelector('form[data-reader="' + kind + '"]');
    }
    return document.querySelector('.entry-reading form[data-reader="' + kind + '"]');
  }

  function save() {
    var form = formOf("star");
    if (form) {
      toggle(form);
      return;
    }
    // An entry page: its own "Save for later" / "Saved — remove" form.
    var own = document.querySelector('.entry-actions form[action$="/save/"], .entry-actions form[action$="/unsave/"]');
    if (own) {
      own.submit();
    }
  }

  function markAllRead() {
    var form = document.querySelector('form[data-reader="mark-all"]');
    if (form && window.confirm(form.getAttribute("data-confirm"))) {
      form.submit();
    }
  }

  function toggleShortcuts() {
    var list = document.getElementById("reader-shortcuts");
    if (list) {
      list.open = !list.open;
      if (list.open) {
        list.querySelector("summary").focus();
      }
    }
  }

  function open() {
    if (current) {
      follow("#" + current.id + " h3 a");
    } else if (document.querySelector(".entry-page")) {
      follow('.entry-page a[rel="noopener noreferrer"]');
    }
  }

  var onEntryPage = function () {
    return document.querySelector(".entry-reading") !== null;
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var key = event.key;
    var handled = true;
    if (key === "j") {
      onEntryPage() ? follow('.entry-neighbours a[rel="next"]') : move(1);
    } else if (key === "k") {
      onEntryPage() ? follow('.entry-neighbours a[rel="prev"]') : move(-1);
    } else if (key === "o") {
      open();
    } else if (key === "Enter" && (event.target === current || (onEntryPage() && event.target === document.body))) {
      open();
    } else if (key === "s") {
      save();
    } else if (key === "m") {
      var form = formOf("read");
      if (form) {
        toggle(form);
      }
    } else if (key === "A" && event.shiftKey) {
      markAllRead();
    } else if (key === "/") {
      var search = document.getElementById("f-q");
      if (search) {
        search.focus();
      } else {
        handled = false;
      }
    } else if (key === "?") {
      toggleShortcuts();
    } else if (key === "Escape") {
      var list = document.getElementById("reader-shortcuts");
      handled = Boolean(list && list.open);
      if (handled) {
        list.open = false;
      }
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  // Mouse and touch get the same in-place toggles and the same question.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.getAttribute("data-reader");
    if (kind === "read" || kind === "star") {
      event.preventDefault();
      toggle(form);
    } else if (kind === "mark-all" && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Clicking into an entry makes it the current one.
  document.addEventListener("click", function (event) {
    var article = event.target.closest ? event.target.closest("article.entry[data-entry]") : null;
    if (article && article !== current) {
      if (current) {
        current.classList.remove("is-current");
      }
      current = article;
      article.classList.add("is-current");
    }
  });

  // Back from an entry, or after a form without JavaScript: start there.
  var match = /^#entry-(\d+)$/.exec(window.location.hash);
  if (match) {
    var start = document.getElementById("entry-" + match[1]);
    if (start && start.matches("article.entry")) {
      setCurrent(start);
    }
  }
})();
