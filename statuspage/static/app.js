// Live air status: one EventSource; every string from devices goes through textContent (never HTML).
"use strict";
const linesEl = document.getElementById("lines");
const template = document.getElementById("line-template");
const cards = new Map(); // device_key -> {el, at, pressure, opening}
let clockOffsetMs = 0; // server clock - browser clock
let sensorRows = [];

function ago(iso) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((Date.now() + clockOffsetMs - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function fmt(value, unit) {
  return typeof value === "number" ? `${value.toFixed(2)} ${unit}` : "—";
}

function flash(el) {
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
}

function renderLine(row) {
  let card = cards.get(row.device_key);
  if (!card) {
    const el = template.content.firstElementChild.cloneNode(true);
    el.dataset.deviceKey = row.device_key;
    card = { el };
    cards.set(row.device_key, card);
  }
  const el = card.el;
  el.className = `line state-${row.state.toLowerCase()}`;
  el.dataset.state = row.state;
  el.querySelector(".name").textContent = row.line;
  el.querySelector(".badge").textContent = row.state;
  const pressure = el.querySelector(".pressure");
  const opening = el.querySelector(".opening");
  pressure.textContent = fmt(row.pressure, row.unit);
  opening.textContent = fmt(row.opening_pressure, row.unit);
  if (card.at !== undefined && card.at !== row.at) {
    if (card.pressure !== row.pressure) flash(pressure);
    if (card.opening !== row.opening_pressure) flash(opening);
  }
  Object.assign(card, { at: row.at, pressure: row.pressure, opening: row.opening_pressure });
  return el;
}

function render(snapshot) {
  clockOffsetMs = Date.parse(snapshot.now) - Date.now();
  const errorEl = document.getElementById("error");
  errorEl.hidden = !snapshot.error;
  errorEl.textContent = snapshot.error || "";
  const keys = new Set();
  snapshot.lines.forEach((row, i) => {
    keys.add(row.device_key);
    const el = renderLine(row);
    if (linesEl.children[i] !== el) linesEl.insertBefore(el, linesEl.children[i] || null);
  });
  for (const [key, card] of cards) {
    if (!keys.has(key)) { card.el.remove(); cards.delete(key); }
  }
  document.getElementById("no-lines").hidden = snapshot.lines.length > 0;
  const c = snapshot.counts || {};
  document.getElementById("summary").textContent =
    `${c.LEAK || 0} LEAK · ${c.STALE || 0} STALE · ${c.OK || 0} OK`;
  sensorRows = snapshot.sensors;
  renderSensors();
  tick();
}

function renderSensors() {
  const body = document.getElementById("sensors");
  body.replaceChildren(...sensorRows.map((s) => {
    const tr = document.createElement("tr");
    for (const text of [s.sensor, String(s.last_minute), ago(s.last_seen)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
}

function tick() {
  for (const card of cards.values()) card.el.querySelector(".ago").textContent = `last reading ${ago(card.at)}`;
}

setInterval(() => { tick(); renderSensors(); }, 1000);

const source = new EventSource("events");
source.onmessage = (event) => render(JSON.parse(event.data));
source.onerror = () => {
  const errorEl = document.getElementById("error");
  errorEl.hidden = false;
  errorEl.textContent = "Connection to the status server lost; retrying…";
};
