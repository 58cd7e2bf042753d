// LogQueue console: hand-written, no dependencies. Every figure comes from the JSON API;
// the API key (only with access control on) lives in this tab's sessionStorage and is sent
// as a bearer token, never in a URL or a cookie. Message bodies are always set as text.
"use strict";

const KEY = "logqueue.apiKey";
const REFRESH_MS = 5000;
const PAGE = 20;
const TAIL_KEEP = 200;

let refreshTimer = null;
let liveTail = null;

// --- talking to the API -------------------------------------------------------------------

function authHeaders() {
  const key = sessionStorage.getItem(KEY);
  return key ? { Authorization: "Bearer " + key } : {};
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", json } = {}) {
  const headers = { Accept: "application/json", ...authHeaders() };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
  let payload = null;
  try {
    payload = await response.json();
  } catch (_) {
    payload = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (payload && payload.message) || "HTTP " + response.status);
  }
  return payload;
}

function topicPath(name) {
  return "/topics/" + encodeURIComponent(name);
}

// --- small DOM helpers --------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    document.getElementById("view").replaceChildren(
      el("p", { id: "needs-key" }, "This server has access control on: enter an API key above."),
    );
    notice(error.message);
    return;
  }
  notice(error.message);
}

function retention(messages, ms) {
  const parts = [];
  if (messages !== null) parts.push(messages.toLocaleString() + " msgs");
  if (ms !== null) parts.push(formatMs(ms));
  return parts.length ? parts.join(", ") : "unlimited";
}

function formatMs(ms) {
  const units = [["d", 86400000], ["h", 3600000], ["min", 60000], ["s", 1000]];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return ms / size + " " + unit;
  return ms + " ms";
}

function rateText(points, field) {
  if (!points.length) return "–";
  return points[points.length - 1][field].toFixed(1) + "/s";
}

// An SVG sparkline of one rate field over the sampled window.
function chart(points, field, { width = 140, height = 32, kind = "produce" } = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart " + kind);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const base = document.createElementNS(ns, "line");
  base.setAttribute("x1", 0);
  base.setAttribute("x2", width);
  base.setAttribute("y1", height - 1);
  base.setAttribute("y2", height - 1);
  svg.append(base);
  if (points.length > 1) {
    const top = Math.max(...points.map((p) => p[field]), 1e-9);
    const step = width / (points.length - 1);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute(
      "points",
      points.map((p, i) => `${(i * step).toFixed(1)},${(height - 2 - (p[field] / top) * (height - 4)).toFixed(1)}`).join(" "),
    );
    svg.append(line);
  }
  const title = document.createElementNS(ns, "title");
  title.textContent = `${kind} rate, last ${points.length} samples`;
  svg.append(title);
  return svg;
}

// --- pages --------------------------------------------------------------------------------

function stopPage() {
  clearInterval(refreshTimer);
  refreshTimer = null;
  if (liveTail) liveTail.stop();
  liveTail = null;
}

function everyFewSeconds(load) {
  load();
  refreshTimer = setInterval(load, REFRESH_MS);
}

function topicsPage() {
  const rows = el("tbody");
  const form = el(
    "form",
    { id: "create-form", class: "inline" },
    el("label", {}, "New topic", el("input", { id: "create-name", required: true, pattern: "[A-Za-z0-9._-]{1,255}" })),
    el("label", {}, "Keep messages", el("input", { id: "create-retention-messages", type: "number", min: 1 })),
    el("label", {}, "Keep ms", el("input", { id: "create-retention-ms", type: "number", min: 1 })),
    el("button", { type: "submit", id: "create-submit" }, "Create topic (admin key)"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const json = { topic_name: document.getElementById("create-name").value };
    const kept = document.getElementById("create-retention-messages").value;
    const keptMs = document.getElementById("create-retention-ms").value;
    if (kept) json.retention_messages = Number(kept);
    if (keptMs) json.retention_ms = Number(keptMs);
    try {
      await api("/topics", { method: "POST", json });
      form.reset();
      notice("");
      await load();
    } catch (error) {
      failed(error);
    }
  });
  const table = el(
    "table",
    { id: "topics-table" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Topic", "Length", "First", "Next", "Retention", "Produce rate", "Consume rate", "Largest lag", ""].map((h, i) =>
          el("th", { class: i >= 1 && i <= 3 ? "num" : null }, h),
        ),
      ),
    ),
    rows,
  );
  const interval = el("span", { class: "muted" });
  document.getElementById("view").replaceChildren(el("h1", {}, "Topics"), table, interval, form);

  async function load() {
    let body;
    try {
      body = await api("/stats/topics");
    } catch (error) {
      rows.replaceChildren();
      failed(error);
      return;
    }
    notice("");
    interval.textContent = `Rates per second, sampled every ${body.sample_interval_s} s over the last 10 minutes (counted in the database).`;
    rows.replaceChildren(
      ...body.topics.map((t) =>
        el(
          "tr",
          { "data-topic": t.topic },
          el("td", {}, el("a", { href: "#/topic/" + encodeURIComponent(t.topic) }, t.topic)),
          el("td", { class: "num length" }, t.length),
          el("td", { class: "num" }, t.first_offset),
          el("td", { class: "num" }, t.next_offset),
          el("td", {}, retention(t.retention_messages, t.retention_ms)),
          el("td", {}, chart(t.rates, "produce_per_s"), rateText(t.rates, "produce_per_s")),
          el("td", {}, chart(t.rates, "consume_per_s", { kind: "consume" }), rateText(t.rates, "consume_per_s")),
          el("td", { class: "num" }, t.max_lag === null ? "–" : t.max_lag),
          el(
            "td",
            {},
            el(
              "button",
              {
                class: "danger delete-topic",
                "data-topic": t.topic,
                onclick: async () => {
                  if (!window.confirm(`Delete topic '${t.topic}' with all its messages?`)) return;
                  try {
                    await api(topicPath(t.topic), { method: "DELETE" });
                    await load();
                  } catch (error) {
                    failed(error);
                  }
                },
              },
              "Delete",
            ),
          ),
        ),
      ),
    );
  }
  everyFewSeconds(load);
}

// The topic's details list the first page of its producers and consumers (GET /topics/{t}).
function more(count, shown) {
  return count > shown ? ` … and ${count - shown} more` : "";
}

function topicPage(name) {
  const view = document.getElementById("view");
  const summary = el("div", { class: "card", id: "topic-summary" });
  const rateCard = el("div", { class: "card", id: "topic-rate" });
  const producers = el("p", { id: "producers" });
  const consumers = el("tbody");
  const groupsSection = el("section", { id: "groups", hidden: true });
  const browser = messageBrowser(name);
  const tail = el("ol", { id: "tail", reversed: true });
  const tailState = el("span", { id: "tail-state", "data-state": "connecting" }, "connecting…");
  view.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← Topics")),
    el("h1", {}, "Topic ", el("span", { id: "topic-name" }, name)),
    el("div", { class: "row" }, summary, rateCard),
    el("h2", {}, "Producers"),
    producers,
    el("h2", {}, "Consumers"),
    el(
      "table",
      { id: "consumers-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "Consumer id"), el("th", { class: "num" }, "Offset"), el("th", { class: "num" }, "Lag"))),
      consumers,
    ),
    groupsSection,
    el("h2", {}, "Messages"),
    browser.node,
    el("h2", {}, "Live tail ", tailState),
    tail,
  );

  async function load() {
    try {
      const [details, stats] = await Promise.all([api(topicPath(name)), api("/stats" + topicPath(name))]);
      notice("");
      const t = stats.topic;
      summary.replaceChildren(
        el("div", {}, "Length ", el("strong", { id: "topic-length" }, details.length)),
        el("div", { class: "muted" }, `offsets ${details.first_offset} … ${details.next_offset - 1}`),
        el("div", { class: "muted" }, "retention " + retention(details.retention_messages, details.retention_ms)),
        el("div", { class: "muted" }, "largest lag " + (t.max_lag === null ? "–" : t.max_lag)),
      );
      rateCard.replaceChildren(
        el("div", {}, "Produce rate ", el("strong", {}, rateText(t.rates, "produce_per_s"))),
        chart(t.rates, "produce_per_s", { width: 320, height: 60 }),
        el("div", { class: "muted" }, `sampled every ${stats.sample_interval_s} s`),
      );
      producers.textContent =
        (details.producers.length ? details.producers.join(", ") : "none") +
        more(details.producer_count, details.producers.length);
      consumers.replaceChildren(
        ...details.consumers.map((c) =>
          el("tr", {}, el("td", {}, c.consumer_id), el("td", { class: "num" }, c.offset), el("td", { class: "num" }, c.lag)),
        ),
      );
      const hidden = details.consumer_count - details.consumers.length;
      if (hidden > 0) {
        consumers.append(el("tr", {}, el("td", { class: "muted", colspan: "3" }, `… and ${hidden} more`)));
      }
      await loadGroups(name, groupsSection);
    } catch (error) {
      failed(error);
    }
  }
  everyFewSeconds(load);
  browser.load();
  liveTail = startTail(name, tail, tailState);
}

// Groups appear when the server has consumer groups (GET /topics/{t}/groups answers).
async function loadGroups(name, section) {
  let body;
  try {
    body = await api(topicPath(name) + "/groups");
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405) && !section.dataset.seen) {
      section.hidden = true;
      return;
    }
    throw error;
  }
  section.dataset.seen = "1";
  section.hidden = false;
  const groups = body.groups || [];
  const rows = groups.map((g) => {
    const group = g.group || g.name;
    const seek = el("select", {}, el("option", { value: "earliest" }, "earliest"), el("option", { value: "latest" }, "latest"));
    return el(
      "tr",
      { "data-group": group },
      el("td", {}, group),
      el("td", { class: "num" }, g.next_offset ?? "–"),
      el("td", { class: "num" }, g.pending ?? "–"),
      el("td", { class: "num" }, g.dead_lettered ?? "–"),
      el("td", { class: "num" }, g.lag ?? "–"),
      el(
        "td",
        {},
        seek,
        el("button", { onclick: () => groupAction(name, group, "seek", { start: seek.value }) }, "Seek"),
        " ",
        el("button", { class: "danger", onclick: () => groupAction(name, group, "delete") }, "Delete"),
      ),
    );
  });
  const form = el(
    "form",
    { class: "inline", id: "group-form" },
    el("label", {}, "New group", el("input", { id: "group-name", required: true, pattern: "[A-Za-z0-9._-]{1,255}" })),
    el("button", { type: "submit" }, "Create group"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    groupAction(name, document.getElementById("group-name").value, "create");
  });
  section.replaceChildren(
    el("h2", {}, "Groups"),
    el(
      "table",
      { id: "groups-table" },
      el(
        "thead",
        {},
        el("tr", {}, ["Group", "Position", "Pending", "Dead-lettered", "Lag", ""].map((h, i) => el("th", { class: i && i < 5 ? "num" : null }, h))),
      ),
      el("tbody", {}, rows),
    ),
    form,
  );
}

async function groupAction(topic, group, action, json) {
  const path = topicPath(topic) + "/groups/" + encodeURIComponent(group);
  try {
    if (action === "create") await api(path, { method: "PUT", json: {} });
    else if (action === "delete") await api(path, { method: "DELETE" });
    else await api(path + "/seek", { method: "POST", json });
    notice("");
  } catch (error) {
    failed(error);
  }
}

// Pages of the log, newest first: Older follows the page's `older`; jump by offset or time.
function messageBrowser(name) {
  let before = null;
  let time = null;
  const rows = el("tbody");
  const older = el("button", { id: "older", type: "button", onclick: () => go(olderThan, null) }, "Older →");
  const newest = el("button", { id: "newest", type: "button", onclick: () => go(null, null) }, "Newest");
  const offsetInput = el("input", { id: "jump-offset", type: "number", min: 0, placeholder: "offset" });
  const timeInput = el("input", { id: "jump-time", type: "datetime-local", step: 1 });
  const jump = el(
    "form",
    { class: "inline", id: "jump-form" },
    newest,
    older,
    el("label", {}, "Jump to offset", offsetInput),
    el("label", {}, "or time (local)", timeInput),
    el("button", { type: "submit", id: "jump" }, "Go"),
  );
  jump.addEventListener("submit", (event) => {
    event.preventDefault();
    if (offsetInput.value !== "") go(Number(offsetInput.value) + 1, null);
    else if (timeInput.value) go(null, new Date(timeInput.value).toISOString());
  });
  let olderThan = null;
  const node = el(
    "div",
    {},
    jump,
    el(
      "table",
      { id: "browser" },
      el("thead", {}, el("tr", {}, el("th", { class: "num" }, "Offset"), el("th", {}, "Produced at"), el("th", {}, "Message"))),
      rows,
    ),
  );

  function go(newBefore, newTime) {
    before = newBefore;
    time = newTime;
    load();
  }

  async function load() {
    const query = new URLSearchParams({ limit: PAGE });
    if (before !== null) query.set("before", before);
    if (time !== null) query.set("time", time);
    try {
      const page = await api(topicPath(name) + "/messages?" + query);
      olderThan = page.older;
      older.disabled = page.older === null;
      rows.replaceChildren(
        ...page.messages.map((m) =>
          el(
            "tr",
            { "data-offset": m.offset },
            el("td", { class: "num" }, m.offset),
            el("td", { class: "muted" }, new Date(m.produced_at).toLocaleString()),
            el("td", { class: "body" }, m.message),
          ),
        ),
      );
    } catch (error) {
      failed(error);
    }
  }
  return { node, load };
}

// The SSE stream read with fetch, not EventSource: EventSource cannot send the API key as a
// header. Reconnects after a drop with Last-Event-ID, so nothing is missed or shown twice.
function startTail(name, list, state) {
  const controller = new AbortController();
  let stopped = false;
  let last = null;

  function setState(value, text) {
    state.dataset.state = value;
    state.textContent = text;
  }

  function show(block) {
    const data = block
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""))
      .join("\n");
    if (!data) return;
    const message = JSON.parse(data);
    last = message.offset;
    list.prepend(el("li", { value: message.offset, "data-offset": message.offset }, el("code", {}, message.message)));
    while (list.children.length > TAIL_KEEP) list.lastElementChild.remove();
  }

  async function run() {
    while (!stopped) {
      try {
        const headers = { Accept: "text/event-stream", ...authHeaders() };
        if (last !== null) headers["Last-Event-ID"] = String(last);
        const response = await fetch(topicPath(name) + "/stream?from=latest", {
          headers,
          signal: controller.signal,
          cache: "no-store",
          credentials: "omit",
        });
        if (!response.ok) throw new ApiError(response.status, "stream: HTTP " + response.status);
        setState("live", "live");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            show(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && error.status === 401) {
          setState("denied", "needs an API key");
          return;
        }
      }
      setState("reconnecting", "reconnecting…");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  run();
  return {
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}

// --- routing and the key form -------------------------------------------------------------

function route() {
  stopPage();
  notice("");
  const match = location.hash.match(/^#\/topic\/(.+)$/);
  if (match) topicPage(decodeURIComponent(match[1]));
  else topicsPage();
}

function setUpKeyForm() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value) sessionStorage.setItem(KEY, input.value);
    input.value = "";
    route();
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    route();
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  setUpKeyForm();
  route();
});
