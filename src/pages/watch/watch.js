// Watch it learn: poll the training's state a few times a second and draw it; send the
// controls. Plain JavaScript and canvas, no libraries. The drawing pad is the drawing page's
// own script (draw.js, loaded before this one); its POST /predict asks the network as it is
// now. digits.js (loaded before it too) draws a digit and finds the map's dot pointed at.
// The server is src/pages/watch_training.py; its API is in references/usage.md.

const POLL_MS = 500; // how often the page asks for /state while the training runs
const PICTURES_MS = 1000; // and at most how often for the weights and the batch's images
// SIDE (28, the pictures' side) comes from draw.js, as do sendCanvas() and the pad.

const runStatus = document.getElementById("run-status");
const timing = document.getElementById("timing");
const message = document.getElementById("message");
const changesList = document.getElementById("changes");
const pauseButton = document.getElementById("pause");
const stepButton = document.getElementById("step");
const epochButton = document.getElementById("epoch");
const stopButton = document.getElementById("stop");
const lrInput = document.getElementById("lr");
const weightsCanvas = document.getElementById("weights");

let lossPoints = []; // [batch, smoothed loss], appended from /state?since=
let healthPoints = []; // {batch, gradient: [per layer], update_ratio: [...], dead: [...]}
let lastBatch = 0; // the last batch whose points the page has
let state = null;
let shownSnapshot = -1; // the weights' snapshot on screen
let picturesShownAt = 0;
let shownPanelEpoch = -1;
let panelLabels = [];
let panelAsked = false; // the validation digits are fetched once, when the training starts
let lastPadAsk = 0;
let drawn = false; // something on the drawing pad to ask about again as the network learns

const LAYER_COLORS = ["#1f4fbf", "#e07b00", "#2e7d32", "#8e24aa", "#c62828"];

// ---- Talking to the server ----

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const result = await response.json();
  if (!response.ok) throw new Error(result.error || response.statusText);
  return result;
}

async function poll() {
  try {
    const fresh = await getJSON(`/state?since=${lastBatch}`);
    if (fresh.batches_done < lastBatch) {
      // a new run on the same address: start the curves again
      lossPoints = [];
      healthPoints = [];
    }
    lossPoints.push(...fresh.loss_curve);
    healthPoints.push(...fresh.health);
    lastBatch = fresh.batches_done;
    state = fresh;
    showState();
    if (state.started && !panelAsked) await loadPanel();
    const due = Date.now() - picturesShownAt >= PICTURES_MS || state.paused || state.finished;
    if (state.started && state.snapshot !== shownSnapshot && due) {
      picturesShownAt = Date.now();
      await showWeightsAndBatch(state.snapshot);
    }
    if (state.started && mapDue()) loadMap(); // not awaited: the map has its own pace
    if (message.dataset.from === "poll") message.textContent = "";
  } catch (error) {
    message.textContent = "the training's server does not answer: " + error.message;
    message.dataset.from = "poll";
  }
  const idle = document.hidden || (state && state.finished); // nobody looks, or nothing moves
  setTimeout(poll, idle ? 4 * POLL_MS : POLL_MS);
}

async function control(body) {
  try {
    state = await getJSON("/control", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    message.textContent = "";
    showState();
  } catch (error) {
    message.textContent = error.message;
    message.dataset.from = "control";
  }
}

pauseButton.addEventListener("click", () =>
  control({ action: state && state.paused ? "resume" : "pause" }),
);
stepButton.addEventListener("click", () => control({ action: "step" }));
epochButton.addEventListener("click", () => control({ action: "epoch" }));
stopButton.addEventListener("click", () => control({ action: "stop" }));

function setLearningRate() {
  const value = Number(lrInput.value);
  if (!lrInput.value.trim() || !Number.isFinite(value) || value <= 0) {
    message.textContent = "the learning rate must be a number > 0";
    return;
  }
  lrInput.dataset.editing = "";
  control({ learning_rate: value });
}
document.getElementById("set-lr").addEventListener("click", setLearningRate);
lrInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") setLearningRate();
  else lrInput.dataset.editing = "yes"; // do not overwrite what the learner is typing
});

// The drawing pad (draw.js): ask again every second or so while the network learns; and place
// the drawing on the points map.
document.getElementById("canvas").addEventListener("pointerup", () => {
  drawn = true;
  placeDrawing();
});
document.getElementById("clear").addEventListener("click", () => {
  drawn = false;
  drawnPoint = null;
  drawMap();
});

// ---- The state as text, buttons and curves ----

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "?";
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 2 : 0) + " s";
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}

function showState() {
  const s = state;
  const where = `epoch ${s.epoch} of ${s.epochs} done, batch ${s.batches_done.toLocaleString()}`;
  let mode = s.paused ? (s.held ? "paused" : "pausing") : "training";
  if (!s.started) mode = "starting";
  if (s.stopping) mode = "stopping";
  if (s.finished) mode = s.stopping ? "stopped early" : "finished";
  runStatus.textContent = `${where}: ${mode}` + (s.message ? `. ${s.message}` : "");
  runStatus.className = "run-status " + (s.finished ? "finished" : s.paused ? "paused" : "");
  const last = s.history[s.history.length - 1];
  const accuracy =
    last && last.val_accuracy !== undefined
      ? `, validation accuracy ${(100 * last.val_accuracy).toFixed(2)}%`
      : "";
  timing.textContent =
    `learning rate ${s.learning_rate.toPrecision(3)}${accuracy}; ` +
    `${formatSeconds(s.seconds_per_epoch)} per epoch` +
    (s.finished ? "" : `, ${formatSeconds(s.seconds_left)} left`);
  pauseButton.textContent = s.paused ? "Resume" : "Pause";
  for (const button of [pauseButton, stopButton]) button.disabled = s.finished || s.stopping;
  for (const button of [stepButton, epochButton]) {
    button.disabled = s.finished || s.stopping || !s.paused;
  }
  document.getElementById("set-lr").disabled = s.finished;
  if (!lrInput.dataset.editing) lrInput.value = Number(s.learning_rate.toPrecision(4));
  changesList.replaceChildren(
    ...s.changes
      .filter((c) => c.learning_rate !== undefined || c.action === "stop")
      .map((c) => {
        const item = document.createElement("li");
        const what =
          c.learning_rate !== undefined ? `learning rate set to ${c.learning_rate}` : "stop";
        item.textContent = `after epoch ${c.epoch}, batch ${c.batches_done}: ${what}`;
        return item;
      }),
  );
  if (s.changes_dropped > 0) {
    // the server keeps the latest 200 controls; it says how many older ones it let go
    const item = document.createElement("li");
    item.textContent = `(and ${s.changes_dropped} earlier controls, no longer listed)`;
    changesList.prepend(item);
  }
  drawCurves();
  drawHealth();
  drawHistograms(s.histograms);
  if (s.panel && s.panel.epoch !== shownPanelEpoch) showPanelAnswers(s.panel);
  const now = Date.now();
  if (drawn && !s.finished && now - lastPadAsk > 1000) {
    lastPadAsk = now;
    sendCanvas(); // draw.js: the pad's drawing, asked of the network as it is now
  }
}

// x in epochs: batch b of the run is at b / batches_per_epoch.
function drawCurves() {
  const s = state;
  const perEpoch = s.batches_per_epoch || 1;
  const series = [
    { points: lossPoints.map(([b, loss]) => [b / perEpoch, loss]), color: "#8fa9cf", width: 1 },
    { points: s.history.map((h) => [h.epoch, h.loss]), color: "#1f4fbf", dots: true },
  ];
  if (s.history.length && s.history[0].val_loss !== undefined) {
    series.push({ points: s.history.map((h) => [h.epoch, h.val_loss]), color: "#e07b00", dots: true });
    const accuracy = s.history.map((h) => [h.epoch, 100 * h.val_accuracy]);
    drawChart(document.getElementById("accuracy-chart"), [
      { points: accuracy, color: "#2e7d32", dots: true },
    ], { xMax: s.epochs, yLabel: "%" });
  }
  drawChart(document.getElementById("loss-chart"), series, { log: true, xMax: s.epochs });
  const rates = s.history.map((h) => [h.epoch, h.learning_rate]);
  rates.push([s.batches_done / perEpoch, s.learning_rate]);
  drawChart(document.getElementById("lr-chart"), [{ points: rates, color: "#555", dots: true }], {
    xMax: s.epochs,
    yMin: 0,
  });
}

function drawHealth() {
  if (!healthPoints.length) return;
  const perEpoch = state.batches_per_epoch || 1;
  const layerSeries = (key, scale = 1) =>
    healthPoints[0][key].map((_, layer) => ({
      points: healthPoints.map((h) => [h.batch / perEpoch, scale * h[key][layer]]),
      color: LAYER_COLORS[layer % LAYER_COLORS.length],
    }));
  const xMax = state.epochs;
  drawChart(document.getElementById("gradient-chart"), layerSeries("gradient"), { log: true, xMax });
  drawChart(document.getElementById("update-chart"), layerSeries("update_ratio"), {
    log: true,
    xMax,
    guides: [1e-3, 1e-2],
  });
  drawChart(document.getElementById("dead-chart"), layerSeries("dead", 100), {
    xMax,
    yMin: 0,
    yMaxAtLeast: 10,
    yLabel: "%",
  });
  const legend = document.getElementById("legend");
  const layers = healthPoints[0].update_ratio.length;
  if (legend.children.length !== layers) {
    const names = healthPoints[0].update_ratio.map((_, layer) => {
      const name = document.createElement("span");
      name.className = `layer-${layer % LAYER_COLORS.length}`; // the line's colour (watch.css)
      name.textContent = `layer ${layer + 1}`;
      return name;
    });
    legend.replaceChildren("lines: ", ...names.flatMap((n, i) => (i ? [", ", n] : [n])));
  }
}

// ---- A small line chart: series of [x, y] points, linear or log y, x from 0 to xMax ----

function niceStep(range, count) {
  const rough = range / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const ratio = rough / power;
  return power * (ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10);
}

function formatTick(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1000 || size < 0.01) return value.toExponential(0).replace("e", "e");
  return String(Number(value.toPrecision(3)));
}

function drawChart(target, series, options = {}) {
  const g = target.getContext("2d");
  const width = target.width;
  const height = target.height;
  const left = 48;
  const right = 10;
  const top = 8;
  const bottom = 32;
  g.clearRect(0, 0, width, height);
  g.font = "11px system-ui, sans-serif";
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => Number.isFinite(y));
  const usable = options.log ? ys.filter((y) => y > 0) : ys;
  const xMax = Math.max(options.xMax || 1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  let yMin;
  let yMax;
  if (!usable.length) {
    yMin = options.log ? 0.01 : 0;
    yMax = options.log ? 10 : 1;
  } else if (options.log) {
    const guides = options.guides || [];
    yMin = 10 ** Math.floor(Math.log10(Math.min(...usable, ...guides)));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(...usable, ...guides)));
    if (yMax === yMin) yMax = yMin * 10;
  } else {
    yMin = options.yMin !== undefined ? options.yMin : Math.min(...usable);
    yMax = Math.max(...usable, options.yMaxAtLeast || -Infinity);
    if (yMax - yMin < 1e-12) yMax = yMin + (Math.abs(yMin) || 1) * 0.1;
    const pad = (yMax - yMin) * 0.05;
    if (options.yMin === undefined) yMin -= pad;
    yMax += pad;
  }
  const toY = (y) => {
    const t = options.log
      ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (y - yMin) / (yMax - yMin);
    return top + (1 - t) * (height - top - bottom);
  };
  const toX = (x) => left + (x / xMax) * (width - left - right);

  // Grid and ticks
  g.strokeStyle = "#e4e4e4";
  g.fillStyle = "#666";
  g.lineWidth = 1;
  g.textAlign = "right";
  g.textBaseline = "middle";
  const yTicks = [];
  if (options.log) {
    for (let p = Math.log10(yMin); p <= Math.log10(yMax) + 1e-9; p++) yTicks.push(10 ** p);
  } else {
    const step = niceStep(yMax - yMin, 4);
    for (let y = Math.ceil(yMin / step) * step; y <= yMax + 1e-12; y += step) yTicks.push(y);
  }
  for (const y of yTicks) {
    g.beginPath();
    g.moveTo(left, toY(y));
    g.lineTo(width - right, toY(y));
    g.stroke();
    g.fillText(formatTick(y) + (options.yLabel || ""), left - 4, toY(y));
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  const xStep = Math.max(1, niceStep(xMax, 5));
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    g.fillText(String(Math.round(x)), toX(x), height - bottom + 5);
  }
  g.fillText("epochs", left + (width - left - right) / 2, height - 12);
  g.strokeStyle = "#999";
  g.strokeRect(left, top, width - left - right, height - top - bottom);
  g.setLineDash([4, 4]);
  g.strokeStyle = "#555";
  for (const guide of options.guides || []) {
    g.beginPath();
    g.moveTo(left, toY(guide));
    g.lineTo(width - right, toY(guide));
    g.stroke();
  }
  g.setLineDash([]);

  // The lines
  for (const s of series) {
    const points = s.points.filter(([, y]) => Number.isFinite(y) && (!options.log || y > 0));
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = s.width || 2;
    g.beginPath();
    points.forEach(([x, y], i) => (i ? g.lineTo(toX(x), toY(y)) : g.moveTo(toX(x), toY(y))));
    g.stroke();
    if (s.dots && points.length < 60) {
      for (const [x, y] of points) {
        g.beginPath();
        g.arc(toX(x), toY(y), 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    }
  }
}

// ---- The first layer's weights: one 28x28 picture per unit, red + and blue - ----

// A byte 0-255 (128 = 0) -> [r, g, b]: white at 0, red for positive, blue for negative.
function divergingColor(byte) {
  const t = (byte - 128) / 127;
  const paper = 255;
  const tint = t > 0 ? [200, 30, 30] : [30, 70, 200];
  const strength = Math.min(Math.abs(t), 1);
  return tint.map((c) => Math.round(paper + (c - paper) * strength));
}
const COLORS = Array.from({ length: 256 }, (_, byte) => divergingColor(byte));

async function showWeightsAndBatch(snapshot) {
  const [weights, batch] = await Promise.all([fetch("/weights"), fetch("/batch")]);
  if (!weights.ok || !batch.ok) return;
  const units = Number(weights.headers.get("X-Units"));
  drawWeights(new Uint8Array(await weights.arrayBuffer()), units);
  const labels = (batch.headers.get("X-Labels") || "").split(",").filter((v) => v !== "");
  // -1: a made-up image that is not a digit (NN_Numpy's NOT_A_DIGIT), trained towards "unsure"
  const captions = labels.map((label) => (label === "-1" ? "not a digit" : label));
  drawDigitRow(document.getElementById("batch"), new Uint8Array(await batch.arrayBuffer()), captions);
  shownSnapshot = snapshot;
}

function drawWeights(bytes, units) {
  const columns = 16;
  const rows = Math.ceil(units / columns);
  const tile = SIDE + 1; // one pixel of gap
  const picture = new ImageData(columns * tile, rows * tile);
  picture.data.fill(235); // the gaps: light grey
  for (let unit = 0; unit < units; unit++) {
    const x0 = (unit % columns) * tile;
    const y0 = Math.floor(unit / columns) * tile;
    for (let pixel = 0; pixel < SIDE * SIDE; pixel++) {
      const [r, g, b] = COLORS[bytes[unit * SIDE * SIDE + pixel]];
      const at = 4 * ((y0 + Math.floor(pixel / SIDE)) * picture.width + x0 + (pixel % SIDE));
      picture.data[at] = r;
      picture.data[at + 1] = g;
      picture.data[at + 2] = b;
    }
  }
  const small = document.createElement("canvas");
  small.width = picture.width;
  small.height = picture.height;
  small.getContext("2d").putImageData(picture, 0, 0);
  weightsCanvas.width = 2 * picture.width;
  weightsCanvas.height = 2 * picture.height;
  const g = weightsCanvas.getContext("2d");
  g.imageSmoothingEnabled = false;
  g.drawImage(small, 0, 0, weightsCanvas.width, weightsCanvas.height);
}

// ---- Digits: a grey 28x28 picture each, with a caption ----

function drawDigitRow(box, bytes, captions) {
  const figures = captions.map((caption, i) => {
    const figure = document.createElement("figure");
    const label = document.createElement("figcaption");
    label.textContent = caption;
    figure.append(digitCanvas(bytes, i * SIDE * SIDE), label);
    return figure;
  });
  box.replaceChildren(...figures);
}

async function loadPanel() {
  panelAsked = true;
  const panel = await getJSON("/panel");
  if (!panel.labels.length) return; // no validation rows (--train-on-all)
  panelLabels = panel.labels;
  const bytes = new Uint8Array(panel.images.flat());
  drawDigitRow(document.getElementById("digits"), bytes, panel.labels.map(() => "?"));
}

function showPanelAnswers(panel) {
  const captions = document.querySelectorAll("#digits figcaption");
  if (captions.length !== panel.predicted.length) return; // the images are not there yet
  panel.predicted.forEach((digit, i) => {
    const right = digit === panelLabels[i];
    captions[i].textContent = `${digit} ${Math.round(100 * panel.probability[i])}%`;
    captions[i].className = right ? "right" : "wrong";
    captions[i].title = right ? "right" : `wrong: it is a ${panelLabels[i]}`;
  });
  shownPanelEpoch = panel.epoch;
}

// ---- Histograms of each layer's weights, now against the start ----

function drawHistograms(layers) {
  const box = document.getElementById("histograms");
  if (box.children.length !== layers.length) {
    box.replaceChildren(
      ...layers.map(() => {
        const figure = document.createElement("figure");
        const caption = document.createElement("figcaption");
        const chart = document.createElement("canvas");
        chart.width = 240;
        chart.height = 70;
        figure.append(caption, chart);
        return figure;
      }),
    );
  }
  layers.forEach((layer, i) => {
    const figure = box.children[i];
    figure.querySelector("figcaption").textContent =
      `layer ${i + 1}: moved ${Math.round(100 * layer.moved)}% of its size at the start ` +
      `(x: -${layer.limit.toFixed(2)} to ${layer.limit.toFixed(2)})`;
    const chart = figure.querySelector("canvas");
    const g = chart.getContext("2d");
    g.clearRect(0, 0, chart.width, chart.height);
    const most = Math.max(...layer.start, ...layer.now) || 1;
    const barWidth = chart.width / layer.now.length;
    const barHeight = (count) => ((chart.height - 2) * count) / most;
    g.fillStyle = "#c8c8c8";
    layer.start.forEach((count, bin) => {
      g.fillRect(bin * barWidth, chart.height - barHeight(count), barWidth - 1, barHeight(count));
    });
    g.strokeStyle = "#c62828";
    g.lineWidth = 2;
    g.beginPath();
    layer.now.forEach((count, bin) => {
      const y = chart.height - barHeight(count);
      if (bin === 0) g.moveTo(0, y);
      g.lineTo(bin * barWidth, y);
      g.lineTo((bin + 1) * barWidth, y);
    });
    g.stroke();
  });
}

// ---- The points map: 1,000 validation digits placed by one layer (PCA), once an epoch ----
// GET /points?layer=L gives each dot's place, true digit and the network's answer; the
// digits' images come once from GET /points/images; POST /points places the pad's drawing.

const mapCanvas = document.getElementById("map");
const mapLayer = document.getElementById("map-layer");
const mapInfo = document.getElementById("map-info");
const mapDigit = document.getElementById("map-digit");
let map = null; // the /points answer on screen
let mapImages = null; // 784 bytes per dot, in the order of map.points
let mapAsking = false;
let mapOff = false; // no map in this run (no validation digits): stop asking
let mapScreen = []; // [x, y] of each dot on the canvas, for pointing at them
let mapPointed = -1; // the dot pointed at
let drawnPoint = null; // the pad's drawing on the map: POST /points's answer

document.getElementById("map-legend").replaceChildren(
  ...DIGIT_COLORS.flatMap((color, digit) => {
    const name = document.createElement("span");
    name.style.color = color;
    name.textContent = String(digit);
    return digit ? [" ", name] : [name];
  }),
);

function mapDue() {
  if (mapAsking || mapOff) return false;
  return map === null || map.epoch !== state.epoch || map.layer !== mapLayer.value;
}

async function loadMap() {
  mapAsking = true;
  try {
    const layer = encodeURIComponent(mapLayer.value);
    const fresh = await getJSON(`/points?layer=${layer}`);
    if (!mapImages && fresh.points.length) {
      const images = await fetch("/points/images");
      if (images.ok) mapImages = new Uint8Array(await images.arrayBuffer());
    }
    if (fresh.message && !fresh.points.length) mapOff = fresh.epoch >= state.epoch;
    showLayers(fresh.layers, fresh.layer);
    const newEpoch = !map || map.epoch !== fresh.epoch;
    map = fresh;
    const wrong = fresh.predicted.filter((digit, i) => digit !== fresh.labels[i]).length;
    document.getElementById("map-about").textContent =
      fresh.message ||
      `after epoch ${fresh.epoch}; "${fresh.layer}" has ${fresh.size} numbers a digit, and ` +
        `this plane keeps ${Math.round(100 * fresh.explained)}% of their spread; ` +
        `${wrong} of the ${fresh.points.length.toLocaleString()} read wrong`;
    drawMap();
    if (mapPointed >= 0) showPointed(mapPointed);
    if (newEpoch && drawn) placeDrawing();
  } catch (error) {
    document.getElementById("map-about").textContent = "no map: " + error.message;
  } finally {
    mapAsking = false;
  }
}

function showLayers(layers, chosen) {
  const names = [...mapLayer.options].map((option) => option.value);
  if (names.join("|") === layers.join("|")) return;
  mapLayer.replaceChildren(
    ...layers.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  mapLayer.value = chosen;
}

mapLayer.addEventListener("change", () => {
  if (!mapAsking) loadMap();
});

function placeDrawing() {
  canvas.toBlob(async (blob) => {
    // canvas: the pad's (draw.js)
    try {
      const placed = await getJSON("/points", { method: "POST", body: blob });
      drawnPoint = drawn && placed.points ? placed : null;
    } catch (error) {
      drawnPoint = null;
    }
    drawMap();
  }, "image/png");
}

function drawMap() {
  const g = mapCanvas.getContext("2d");
  const size = mapCanvas.width;
  g.clearRect(0, 0, size, size);
  mapScreen = [];
  if (!map || !map.points.length) return;
  // the drawing, placed by this very map's network and PCA (a new epoch's comes next)
  const mine = drawnPoint && drawnPoint.epoch === map.epoch && drawnPoint.points[map.layer];
  const all = mine ? [...map.points, mine] : map.points;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  const margin = 12;
  const scale = (size - 2 * margin) / Math.max(xMax - xMin, yMax - yMin, 1e-9); // one scale
  const toScreen = ([x, y]) => [
    size / 2 + (x - (xMin + xMax) / 2) * scale,
    size / 2 - (y - (yMin + yMax) / 2) * scale, // up is up
  ];
  mapScreen = map.points.map(toScreen);
  drawDots(g, mapScreen, map.labels, map.predicted); // digits.js
  if (mapPointed >= 0 && mapPointed < mapScreen.length) ringDot(g, ...mapScreen[mapPointed]);
  if (mine) drawStar(g, ...toScreen(mine), String(drawnPoint.digit));
}

function drawStar(g, x, y, label) {
  g.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? 5 : 12;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    g.lineTo(x + r * Math.cos(angle), y + r * Math.sin(angle));
  }
  g.closePath();
  g.fillStyle = "#ffd600";
  g.fill();
  g.strokeStyle = "black";
  g.lineWidth = 1.5;
  g.stroke();
  g.font = "bold 13px system-ui, sans-serif";
  g.textAlign = "left";
  g.textBaseline = "middle";
  g.strokeStyle = "white"; // a halo: readable over the dots
  g.lineWidth = 3;
  g.strokeText(`your ${label}`, x + 14, y);
  g.fillStyle = "black";
  g.fillText(`your ${label}`, x + 14, y);
}

// Pointing (mouse hover, pen or a tap): the nearest dot within 10 pixels shows its digit
// (digits.js).
function pointAt(event) {
  const best = nearestDot(mapCanvas, mapScreen, event);
  if (best >= 0 && best !== mapPointed) {
    mapPointed = best;
    showPointed(best);
    drawMap();
  }
}
mapCanvas.addEventListener("pointermove", pointAt);
mapCanvas.addEventListener("pointerdown", pointAt);

function showPointed(i) {
  showDigit(mapDigit, mapInfo, mapImages, map, i);
}

poll();
