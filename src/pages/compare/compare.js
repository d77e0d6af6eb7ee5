// Experiments side by side: poll the comparison's state, draw every variant's curves over
// each other and its pictures beside the others'. Plain JavaScript and canvas, no libraries.
// digits.js (the watch page's, loaded before this) draws a digit and finds the dot pointed at.
// The server is src/pages/compare_server.py; its API is in references/usage.md.

const POLL_MS = 700;
const SIDE = 28; // the digits' pictures: 28 x 28
const VARIANT_COLORS = ["#1f4fbf", "#e07b00", "#2e7d32", "#8e24aa", "#c62828", "#6d4c41"];
const LAYER_COLORS = ["#1f4fbf", "#e07b00", "#2e7d32", "#8e24aa", "#c62828"];

let state = null;
const drawnSnapshot = []; // per variant: the snapshot whose pictures are on screen
const mapsOf = []; // per variant: the latest /maps answer
const imagesOf = []; // per variant: its map's digits, 784 bytes each (/maps/images)
const screenOf = []; // per variant: [x, y] of each dot on its map's canvas, for pointing
const pointedOf = []; // per variant: the dot pointed at, if any
const message = document.getElementById("message");
const layerChoice = document.getElementById("map-layer");

async function getJSON(url) {
  const response = await fetch(url);
  const result = await response.json();
  if (!response.ok) throw new Error(result.error || response.statusText);
  return result;
}

async function poll() {
  try {
    state = await getJSON("/state");
    showState();
    for (let i = 0; i < state.variants.length; i++) {
      const snapshot = state.variants[i].snapshot;
      if (snapshot > 0 && drawnSnapshot[i] !== snapshot) {
        drawnSnapshot[i] = snapshot;
        await showPictures(i);
      }
    }
    message.textContent = "";
  } catch (error) {
    message.textContent = "the comparison's server does not answer: " + error.message;
  }
  setTimeout(poll, state && state.finished ? 4 * POLL_MS : POLL_MS);
}

// ---- The variants, their status and results ----

function statusText(v) {
  if (v.status === "failed") return `failed: ${v.error || "see the terminal"}`;
  if (v.status === "starting") return "starting (reading the data)";
  if (v.status === "interrupted") return "interrupted";
  const last = v.history[v.history.length - 1];
  const accuracy = last && last.val_accuracy !== undefined && last.val_accuracy !== null
    ? `, validation accuracy ${(100 * last.val_accuracy).toFixed(2)}%` : "";
  const where = v.status === "trained" ? "trained" : `batch ${v.batches_done} of ${v.batches_per_epoch}`;
  return `epoch ${v.epoch} of ${v.epochs}, ${where}${accuracy}`;
}

function showState() {
  document.getElementById("title").textContent = `${state.experiment}: ${state.title}`;
  document.getElementById("look-for").textContent = state.look_for;
  document.getElementById("variants").replaceChildren(...state.variants.map((v, i) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = VARIANT_COLORS[i % VARIANT_COLORS.length];
    const name = document.createElement("strong");
    name.textContent = `${v.name} `;
    const options = document.createTextNode(`(${v.options}): `);
    const status = document.createElement("span");
    status.className = `variant-status ${v.status}`;
    status.textContent = statusText(v);
    item.append(swatch, name, options, status);
    return item;
  }));
  drawCurves();
  drawGradients();
  showResults();
}

function showResults() {
  document.getElementById("handwriting").textContent = state.handwriting
    ? `handwriting: ${state.handwriting}` : "";
  const body = document.querySelector("#results tbody");
  if (!state.results) {
    const row = document.createElement("tr");
    const cell = document.createElement("td");
    cell.colSpan = 5;
    cell.textContent = "when every variant is done: each model read back and scored";
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  const percent = (x, digits) => (x === undefined ? "-" : `${(100 * x).toFixed(digits)}%`);
  body.replaceChildren(...state.results.map((r, i) => {
    const v = state.variants[i];
    const cells = r.failed
      ? [r.variant, v.options, `failed: ${v.error || "see the terminal"}`, "", "no model saved"]
      : [r.variant, v.options, percent(r.validation_accuracy, 2),
        percent(r.handwriting_accuracy, 1), r.model];
    const row = document.createElement("tr");
    cells.forEach((text, column) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (r.failed && column === 2) cell.className = "failed";
      row.append(cell);
    });
    return row;
  }));
}

// ---- Line charts: [x, y] series over epochs, linear or log y ----

function tickText(value) {
  const size = Math.abs(value);
  if (value === 0) return "0";
  if (size >= 1000 || size < 0.01) return value.toExponential(0);
  return String(Number(value.toPrecision(3)));
}

function chart(canvas, series, options = {}) {
  const g = canvas.getContext("2d");
  const box = { left: 50, right: canvas.width - 10, top: 8, bottom: canvas.height - 30 };
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.font = "11px system-ui, sans-serif";
  const good = (y) => Number.isFinite(y) && y !== null && (!options.log || y > 0);
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter(good);
  const xMax = Math.max(1, options.xMax || 1);
  let [low, high] = options.range || [Math.min(...values), Math.max(...values)];
  if (!values.length && !options.range) [low, high] = options.log ? [0.1, 10] : [0, 1];
  if (options.log) {
    low = 10 ** Math.floor(Math.log10(low));
    high = 10 ** Math.ceil(Math.log10(high));
    if (high <= low) high = low * 10;
  } else if (high - low < 1e-9) {
    high = low + 1;
  }
  const scale = (y) => (options.log ? Math.log10(y) : y);
  const toY = (y) => box.bottom - ((scale(y) - scale(low)) / (scale(high) - scale(low))) *
    (box.bottom - box.top);
  const toX = (x) => box.left + (x / xMax) * (box.right - box.left);
  const ticks = [];
  if (options.log) {
    for (let p = Math.log10(low); p <= Math.log10(high) + 1e-9; p++) ticks.push(10 ** p);
  } else {
    const rough = (high - low) / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = power * [1, 2, 5, 10].find((m) => m * power >= rough);
    low = Math.floor(low / step) * step;
    high = Math.ceil(high / step) * step;
    for (let y = low; y <= high + step / 2; y += step) ticks.push(y);
  }
  g.strokeStyle = "#e6e6e6";
  g.fillStyle = "#666";
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (const y of ticks) {
    g.beginPath();
    g.moveTo(box.left, toY(y));
    g.lineTo(box.right, toY(y));
    g.stroke();
    g.fillText(tickText(y) + (options.unit || ""), box.left - 4, toY(y));
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  const every = Math.max(1, Math.ceil(xMax / 10));
  for (let x = 0; x <= xMax; x += every) g.fillText(String(x), toX(x), box.bottom + 4);
  g.fillText("epochs", (box.left + box.right) / 2, box.bottom + 16);
  g.strokeStyle = "#999";
  g.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  for (const s of series) {
    const points = s.points.filter((p) => good(p[1]));
    g.strokeStyle = g.fillStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [5, 4] : []);
    g.beginPath();
    points.forEach(([x, y], k) => (k ? g.lineTo(toX(x), toY(y)) : g.moveTo(toX(x), toY(y))));
    g.stroke();
    g.setLineDash([]);
    for (const [x, y] of points) {
      g.beginPath();
      g.arc(toX(x), toY(y), 2.5, 0, 2 * Math.PI);
      g.fill();
    }
  }
}

function drawCurves() {
  const xMax = Math.max(...state.variants.map((v) => v.epochs));
  const loss = [];
  const accuracy = [];
  state.variants.forEach((v, i) => {
    const color = VARIANT_COLORS[i % VARIANT_COLORS.length];
    loss.push({ color, points: v.history.map((h) => [h.epoch, h.loss]) });
    if (v.history.length && v.history[0].val_loss !== undefined) {
      loss.push({ color, dashed: true, points: v.history.map((h) => [h.epoch, h.val_loss]) });
      accuracy.push({ color, points: v.history.map((h) => [h.epoch, 100 * h.val_accuracy]) });
    }
  });
  chart(document.getElementById("loss-chart"), loss, { log: true, xMax });
  chart(document.getElementById("accuracy-chart"), accuracy, { xMax, unit: "%" });
}

// One small chart a variant, every layer a line, all on the same y range.
function drawGradients() {
  const box = document.getElementById("gradients");
  const all = state.variants.flatMap((v) => v.gradient.flat()).filter((g) => g > 0);
  const range = all.length ? [Math.min(...all), Math.max(...all)] : undefined;
  const charts = figures(box, "gradient", (canvas) => {
    canvas.width = 300;
    canvas.height = 170;
  });
  state.variants.forEach((v, i) => {
    const layers = v.gradient.length ? v.gradient[0].length : 0;
    const series = Array.from({ length: layers }, (_, layer) => ({
      color: LAYER_COLORS[layer % LAYER_COLORS.length],
      points: v.gradient.map((g, epoch) => [epoch + 1, g[layer]]),
    }));
    chart(charts[i], series, { log: true, xMax: v.epochs, range });
  });
  const layers = Math.max(0, ...state.variants.map((v) => (v.gradient[0] || []).length));
  const legend = document.getElementById("layer-legend");
  if (legend.children.length !== layers) {
    legend.replaceChildren(...Array.from({ length: layers }, (_, layer) => {
      const name = document.createElement("span");
      name.style.color = LAYER_COLORS[layer % LAYER_COLORS.length];
      name.style.fontWeight = "bold";
      name.textContent = `layer ${layer + 1} `;
      return name;
    }));
  }
}

// A figure per variant in `box` (made once), each with a caption and a canvas of class
// `kind`, set up by setUp(canvas, variant, figure): the canvases.
function figures(box, kind, setUp) {
  if (box.children.length !== state.variants.length) {
    box.replaceChildren(...state.variants.map((v, i) => {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = v.name;
      caption.style.color = VARIANT_COLORS[i % VARIANT_COLORS.length];
      const canvas = document.createElement("canvas");
      canvas.className = kind;
      figure.append(caption, canvas);
      setUp(canvas, i, figure);
      return figure;
    }));
  }
  return [...box.querySelectorAll(`canvas.${kind}`)];
}

// ---- Each variant's first-layer weights and points map ----

async function showPictures(i) {
  const response = await fetch(`/weights?variant=${i}`);
  if (response.ok) {
    const units = Number(response.headers.get("X-Units"));
    const canvases = figures(document.getElementById("weights"), "weights", () => {});
    drawWeights(canvases[i], new Uint8Array(await response.arrayBuffer()), units);
  }
  const maps = await fetch(`/maps?variant=${i}`);
  if (maps.ok) {
    mapsOf[i] = await maps.json();
    if (!imagesOf[i]) {
      const images = await fetch(`/maps/images?variant=${i}`);
      if (images.ok) imagesOf[i] = new Uint8Array(await images.arrayBuffer());
    }
    chooseLayers(Object.keys(mapsOf[i].layers));
    drawMap(i);
  }
}

// A byte 0-255 (128 = 0) -> [r, g, b]: white at 0, red for positive, blue for negative.
function weightColor(byte) {
  const t = Math.min(Math.abs((byte - 128) / 127), 1);
  const tint = byte > 128 ? [200, 30, 30] : [30, 70, 200];
  return tint.map((c) => Math.round(255 + (c - 255) * t));
}
const WEIGHT_COLORS = Array.from({ length: 256 }, (_, byte) => weightColor(byte));

function drawWeights(canvas, bytes, units) {
  const columns = 16;
  const tile = SIDE + 1;
  const picture = new ImageData(columns * tile, Math.ceil(units / columns) * tile);
  picture.data.fill(225); // the gaps: light grey
  for (let unit = 0; unit < units; unit++) {
    const x0 = (unit % columns) * tile;
    const y0 = Math.floor(unit / columns) * tile;
    for (let pixel = 0; pixel < SIDE * SIDE; pixel++) {
      const at = 4 * ((y0 + Math.floor(pixel / SIDE)) * picture.width + x0 + (pixel % SIDE));
      picture.data.set(WEIGHT_COLORS[bytes[unit * SIDE * SIDE + pixel]], at);
    }
  }
  canvas.width = picture.width;
  canvas.height = picture.height;
  canvas.getContext("2d").putImageData(picture, 0, 0);
  canvas.dataset.units = units;
}

function chooseLayers(names) {
  if (layerChoice.options.length === names.length) return;
  layerChoice.replaceChildren(...names.map((name) => new Option(name, name)));
  layerChoice.value = names[Math.min(2, names.length - 1)]; // the last hidden layer
  document.getElementById("digit-legend").replaceChildren(...DIGIT_COLORS.map((color, d) => {
    const item = document.createElement("span");
    item.style.color = color;
    item.textContent = `${d}`;
    return item;
  }));
}
layerChoice.addEventListener("change", () => mapsOf.forEach((_, i) => drawMap(i)));

// A map's canvas, and under it the digit pointed at and what this variant says of it.
function setUpMap(canvas, i, figure) {
  canvas.width = 300;
  canvas.height = 300;
  const pointed = document.createElement("div");
  pointed.className = "pointed";
  pointed.hidden = true; // until there is a map to point at
  const digit = document.createElement("canvas");
  digit.className = "digit";
  digit.width = digit.height = 84; // 28x28, 3x
  const info = document.createElement("p");
  info.className = "map-info";
  info.textContent = "point at a dot";
  pointed.append(digit, info);
  figure.append(pointed);
  const pointAt = (event) => {
    const best = nearestDot(canvas, screenOf[i] || [], event);
    if (best >= 0 && best !== pointedOf[i]) {
      pointedOf[i] = best;
      drawMap(i);
    }
  };
  canvas.addEventListener("pointermove", pointAt);
  canvas.addEventListener("pointerdown", pointAt); // a tap
}

function drawMap(i) {
  const maps = mapsOf[i];
  if (!maps) return;
  const canvas = figures(document.getElementById("maps"), "map", setUpMap)[i];
  const points = maps.layers[layerChoice.value] || [];
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  screenOf[i] = [];
  if (!points.length) return;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = Math.max(x1 - x0, y1 - y0) || 1; // the same scale on both axes
  const toX = (x) => 10 + ((x - (x0 + x1) / 2) / size + 0.5) * (canvas.width - 20);
  const toY = (y) => 10 + (0.5 - (y - (y0 + y1) / 2) / size) * (canvas.height - 20);
  const screen = points.map(([x, y]) => [toX(x), toY(y)]);
  drawDots(g, screen, maps.labels, maps.predicted); // digits.js
  screenOf[i] = screen;
  canvas.parentElement.querySelector(".pointed").hidden = false;
  const pointed = pointedOf[i];
  if (pointed !== undefined && pointed < screen.length) {
    ringDot(g, ...screen[pointed]);
    const figure = canvas.parentElement;
    showDigit(figure.querySelector("canvas.digit"), figure.querySelector(".map-info"),
      imagesOf[i], maps, pointed);
  }
  canvas.dataset.points = points.length;
  canvas.title = `epoch ${maps.epoch}, ${layerChoice.value}`;
}

poll();
