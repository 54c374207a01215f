(() => {
  "use strict";
  // The gate's page. Every text from the service (articles, ids, titles, errors) goes into
  // the page as text nodes, never as HTML.
  const $ = (id) => document.getElementById(id);
  const KEY = "dedup-gate-token";
  let opened = "";  // the id of an indexed article being explained, else ""

  function token() { return sessionStorage.getItem(KEY) || ""; }
  function askToken() { $("token-box").hidden = false; $("token").focus(); }
  function say(text, error) {
    $("status").textContent = text;
    $("status").classList.toggle("error", Boolean(error));
  }

  async function api(method, path, body) {
    if (!token()) { askToken(); throw new Error("the token is needed first"); }
    const options = { method, headers: { Authorization: "Bearer " + token() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const answer = await fetch(path, options);
    const data = await answer.json().catch(() => ({}));
    if (answer.status === 401) { sessionStorage.removeItem(KEY); askToken(); }
    if (!answer.ok) throw new Error(data.error || answer.statusText || String(answer.status));
    return data;
  }

  // A text as spans: [start, end) ranges of passages (colour, kind) highlighted.
  function marked(text, spans) {
    const box = document.createElement("div");
    box.className = "text";
    box.tabIndex = 0;
    const cuts = new Set([0, text.length]);
    for (const s of spans) { cuts.add(s.start); cuts.add(s.end); }
    const edges = [...cuts].filter((x) => x >= 0 && x <= text.length).sort((a, b) => a - b);
    for (let i = 0; i + 1 < edges.length; i++) {
      const [a, b] = [edges[i], edges[i + 1]];
      const span = document.createElement("span");
      span.textContent = text.slice(a, b);
      const hit = spans.find((s) => s.start <= a && b <= s.end);
      if (hit) {
        span.className = "hl g" + hit.colour + " k-" + hit.kind;
        span.title = hit.title;
      }
      box.append(span);
    }
    return box;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  const pct = (x) => Math.round(100 * x) + "%";

  async function showMatch(text, match, colour) {
    const source = await api("GET", "/documents/" + encodeURIComponent(match.id));
    const box = element("article", undefined, "pair-body match");
    box.dataset.id = match.id;
    const head = element("h3");
    head.append(element("span", "", "sw g" + colour), element("code", match.id), " ",
      element("span", match.relation.replace("_", " "), "rel rel-" + match.relation));
    box.append(head);
    const facts = [
      "this article's share in it: " + pct(match.coverage),
      "its share in this article: " + pct(match.coverage_other),
      match.passages.length + " passages",
    ];
    if (match.agency) facts.unshift("agency: " + match.agency);
    if (source.title) facts.unshift(source.title);
    box.append(element("p", facts.join(" · "), "meta"));
    const title = (p) => p.kind + " · " + p.words + " words · similarity " + p.similarity.toFixed(2);
    const mine = match.passages.map((p) => ({ start: p.start, end: p.end, kind: p.kind, colour, title: title(p) }));
    const theirs = match.passages.map((p) => ({ start: p.other_start, end: p.other_end, kind: p.kind, colour, title: title(p) }));
    const sides = element("div", undefined, "sides");
    for (const [label, body, spans] of [["this article", text, mine], ["source " + match.id, source.text, theirs]]) {
      const side = element("section", undefined, "side");
      side.append(element("h4", label), marked(body, spans));
      sides.append(side);
    }
    box.append(sides);
    return box;
  }

  async function check(text) {
    say("Checking…");
    const query = opened ? "?exclude=" + encodeURIComponent(opened) : "";
    const verdict = await api("POST", "/check" + query, { id: opened || "pasted", text });
    const line = $("verdict");
    line.replaceChildren(element("span", verdict.verdict, "rel rel-" + verdict.verdict));
    const facts = [" shared with indexed articles: " + pct(verdict.coverage)];
    if (verdict.duplicate_of) facts.push("duplicate of " + verdict.duplicate_of);
    if (verdict.syndicated_from.length) facts.push("syndicated from " + verdict.syndicated_from.join(", "));
    if (verdict.agencies.length) facts.push("agencies: " + verdict.agencies.join(", "));
    if (verdict.credits.length) facts.push("credited: " + verdict.credits.join(", "));
    line.append(facts.join(" · "));
    const boxes = await Promise.all(verdict.matches.map((m, i) => showMatch(text, m, i % 8)));
    $("matches").replaceChildren(...boxes);
    if (!boxes.length) $("matches").append(element("p", "No indexed article shares text with it.", "muted"));
    $("result").hidden = false;
    // Start each column at its first shared passage, as the scan report does.
    for (const box of $("matches").querySelectorAll(".text")) {
      const first = box.querySelector(".hl");
      if (first) box.scrollTop = Math.max(0, first.offsetTop - 10);
    }
    say("");
  }

  async function run(task) {
    try { await task(); } catch (error) { say(error.message, true); }
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    $("token-box").hidden = true;
    say("Token set.");
  });
  $("open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      const id = $("doc-id").value.trim();
      const record = await api("GET", "/documents/" + encodeURIComponent(id));
      opened = id;
      $("article").value = record.text;
      await check(record.text);
    });
  });
  $("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    opened = "";
    run(() => check($("article").value));
  });
  if (!token()) askToken();
})();
