// The board's only script besides the vendored Chart.js. Data from the server is scraped,
// attacker-controlled text: it goes into the page with textContent only, never innerHTML.
"use strict";

const MAX_ROWS = 500;
const TIERS = ["avoid", "low", "medium", "high"];

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function feedRow(s) {
  const tr = document.createElement("tr");
  tr.dataset.signalId = s.signal_id;
  tr.classList.add("fresh");
  cell(tr, s.posted_at);
  const link = document.createElement("a");
  link.href = "/signals/" + encodeURIComponent(s.signal_id);
  link.textContent = s.ticker;
  cell(tr, "").appendChild(link);
  cell(tr, s.source + (s.channel ? " #" + s.channel : "") + " · " + (s.author || "–"));
  const score = cell(tr, "");
  const badge = document.createElement("span");
  badge.className = "score";
  if (TIERS.includes(s.tier)) badge.classList.add("tier-" + s.tier);
  badge.textContent = String(s.final_score);
  score.appendChild(badge);
  score.appendChild(document.createTextNode(" " + s.tier));
  cell(tr, s.probability === null ? "–" : s.probability.toFixed(2));
  cell(tr, s.mode);
  cell(tr, s.model_version || "–");
  cell(tr, s.shadow_score === null ? "–" : String(s.shadow_score));
  return tr;
}

function startFeed() {
  const table = document.getElementById("feed");
  const body = table.tBodies[0];
  const status = document.getElementById("live-status");
  const seen = new Set(Array.from(body.rows, (r) => r.dataset.signalId));
  const query = new URLSearchParams(new FormData(document.getElementById("filters")));
  query.set("after", table.dataset.after);
  const source = new EventSource("/events?" + query.toString());
  source.addEventListener("signals", (event) => {
    const rows = JSON.parse(event.data);
    const fragment = document.createDocumentFragment();
    for (const s of rows.reverse()) {
      if (seen.has(s.signal_id)) continue;
      seen.add(s.signal_id);
      fragment.appendChild(feedRow(s));
    }
    body.insertBefore(fragment, body.firstChild);
    while (body.rows.length > MAX_ROWS) {
      seen.delete(body.lastElementChild.dataset.signalId);
      body.removeChild(body.lastElementChild);
    }
    status.textContent = "live · " + new Date().toLocaleTimeString();
  });
  source.addEventListener("open", () => { status.textContent = "live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(url + ": " + response.status);
  return response.json();
}

function drawSignal() {
  const canvas = document.getElementById("reasons-chart");
  getJson("/api/signals/" + encodeURIComponent(canvas.dataset.signalId)).then((data) => {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.reasons.map((r) => r.feature),
        datasets: [{
          label: "contribution",
          data: data.reasons.map((r) => r.contribution),
          backgroundColor: data.reasons.map((r) => (r.contribution >= 0 ? "#2e7d32" : "#c62828")),
        }],
      },
      options: { indexAxis: "y", animation: false, plugins: { legend: { display: false } } },
    });
    if (!data.prices.length) {
      document.getElementById("price-empty").hidden = false;
      return;
    }
    new Chart(document.getElementById("price-chart"), {
      type: "line",
      data: {
        labels: data.prices.map((p) => p.ts.slice(0, 16).replace("T", " ")),
        datasets: [{ label: "price (USD)", data: data.prices.map((p) => p.price),
          pointRadius: 0, borderColor: "#1565c0" }],
      },
      options: { animation: false, scales: { x: { ticks: { maxTicksLimit: 8 } } } },
    });
  });
}

function drawCalibration() {
  getJson("/api/model").then((data) => {
    const rate = (buckets) => buckets.map((b) => (b.win_rate === null ? null : 100 * b.win_rate));
    const canvas = document.getElementById("calibration-chart");
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.calibration.champion.map((b) => String(b.score)),
        datasets: [
          { label: "champion win rate %", data: rate(data.calibration.champion),
            backgroundColor: "#1565c0" },
          { label: "shadow win rate %", data: rate(data.calibration.shadow),
            backgroundColor: "#ef6c00" },
        ],
      },
      options: { animation: false, scales: { y: { min: 0, max: 100 } } },
    });
    canvas.dataset.drawn = "true";
  });
}

const pages = { feed: startFeed, signal: drawSignal, model: drawCalibration };
const start = pages[document.body.dataset.page];
if (start) start();
