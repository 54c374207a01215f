(() => {
  "use strict";
  // Pair views: clone the document's text (one <template> per document) and mark the spans
  // of this pair's passages. Text only ever moves as DOM nodes, never as HTML source.
  const rendered = new WeakSet();
  function renderPair(pair) {
    if (rendered.has(pair)) return;
    rendered.add(pair);
    const passages = new Map();
    for (const item of pair.querySelectorAll("li[data-p]")) {
      passages.set(item.dataset.p, item);
    }
    for (const box of pair.querySelectorAll(".text[data-doc]")) {
      const source = document.getElementById("text-" + box.dataset.doc);
      if (!source) continue;
      const copy = source.content.cloneNode(true);
      for (const span of copy.querySelectorAll("span[data-p]")) {
        const hits = span.dataset.p.split(" ").filter((id) => passages.has(id));
        if (hits.length === 0) continue;
        const first = passages.get(hits[0]);
        span.classList.add("hl", "g" + first.dataset.c, "k-" + first.dataset.k);
        span.title = hits.map((id) => passages.get(id).textContent.trim()).join("\n");
      }
      box.replaceChildren(copy);
      // Start each column at its first shared passage, its line at the top.
      const first = box.querySelector(".hl");
      if (first) box.scrollTop = Math.max(0, first.offsetTop - 10);
    }
  }
  const pairs = document.querySelectorAll("details.pair");
  for (const pair of pairs) {
    if (pair.open) renderPair(pair);
    pair.addEventListener("toggle", () => {
      if (pair.open) renderPair(pair);
    });
  }

  // A passage's button scrolls both texts of its pair to it.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.jump");
    if (!button) return;
    const pair = button.closest("details.pair");
    renderPair(pair);
    const id = button.closest("li[data-p]").dataset.p;
    const selector = `span[data-p~="${CSS.escape(id)}"]`;
    for (const box of pair.querySelectorAll(".text[data-doc]")) {
      const span = box.querySelector(selector);
      if (!span) continue;
      box.scrollTop = Math.max(0, span.offsetTop - 10);
      span.classList.add("flash");
      setTimeout(() => span.classList.remove("flash"), 1200);
    }
  });

  // A link to a pair (heatmap cell, table, document) opens it.
  // Opened on the click itself (a link to the hash already in the address bar
  // fires no hashchange) and on hashchange (back/forward, typed addresses).
  function openPair(id) {
    const target = id ? document.getElementById(id) : null;
    if (target && target.matches("details.pair")) {
      target.hidden = false;
      target.open = true;
      renderPair(target);
    }
  }
  const openTarget = () => openPair(decodeURIComponent(location.hash.slice(1)));
  document.addEventListener("click", (event) => {
    const link = event.target.closest('a[href^="#"]');
    if (link) openPair(decodeURIComponent(link.getAttribute("href").slice(1)));
  });
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // Filter documents by id or title; a pair stays while one of its documents matches.
  const input = document.getElementById("filter");
  const count = document.getElementById("filter-count");
  const docs = Array.from(document.querySelectorAll("li.doc[data-search]"));
  const pairItems = Array.from(document.querySelectorAll("[data-docs]"));
  function filter() {
    const term = input.value.trim().toLowerCase();
    const matched = new Set();
    for (const doc of docs) {
      const match = term === "" || doc.dataset.search.includes(term);
      doc.hidden = !match;
      if (match) matched.add(doc.id.replace("doc-", ""));
    }
    let pairs = 0;
    let shown = 0;
    for (const item of pairItems) {
      const match = term === "" || item.dataset.docs.split(" ").some((k) => matched.has(k));
      item.hidden = !match;
      if (item.matches("details.pair")) {
        pairs += 1;
        if (match) shown += 1;
      }
    }
    count.textContent = term === ""
      ? ""
      : `${matched.size} of ${docs.length} documents, ${shown} of ${pairs} pairs`;
  }
  input.addEventListener("input", filter);
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
      input.select();
    } else if (event.key === "Escape" && event.target === input) {
      input.value = "";
      filter();
    }
  });
})();
