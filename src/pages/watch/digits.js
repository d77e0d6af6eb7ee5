// Digits on the pages with a points map, the watch page's (watch.js) and the comparison's
// (compare.js): a 28x28 digit as a picture, and pointing at a map's dot (a mouse hover, a
// pen or a tap) to see that digit and what the network said of it. Plain JavaScript and
// canvas; loaded before the page's own script, which draws the map and keeps where its
// dots are on screen.

// The digit at `offset` in `bytes` (784 bytes a digit, one a pixel: 0 blank, 255 ink, as
// GET /points/images and /maps/images send them), as a 28x28 canvas: dark ink on white.
function digitCanvas(bytes, offset) {
  const side = 28;
  const small = document.createElement("canvas");
  small.width = side;
  small.height = side;
  const picture = new ImageData(side, side);
  for (let pixel = 0; pixel < side * side; pixel++) {
    const level = 255 - bytes[offset + pixel]; // dark ink on white, as on paper
    picture.data.set([level, level, level, 255], 4 * pixel);
  }
  small.getContext("2d").putImageData(picture, 0, 0);
  return small;
}

// The dot nearest where `event` points on the map's `canvas`, if within 10 pixels: its
// index in `screen` (each dot's [x, y] in the canvas's own pixels), or -1.
function nearestDot(canvas, screen, event) {
  const box = canvas.getBoundingClientRect(); // the canvas may be shown at another size
  const x = (event.clientX - box.left) * (canvas.width / box.width);
  const y = (event.clientY - box.top) * (canvas.height / box.height);
  let best = -1;
  let bestDistance = 100; // 10 pixels, squared
  screen.forEach(([px, py], i) => {
    const distance = (px - x) ** 2 + (py - y) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  return best;
}

// Dot i of `map` (its "labels", "predicted" and "probability", one each a dot) shown: its
// image on the `picture` canvas (once `images` have come), the true digit and the network's
// answer in `info`: "a 7: the network says 2 (61%)", the answer green if right, red if not.
function showDigit(picture, info, images, map, i) {
  const g = picture.getContext("2d");
  g.imageSmoothingEnabled = false;
  if (images) g.drawImage(digitCanvas(images, i * 784), 0, 0, picture.width, picture.height);
  const label = map.labels[i];
  const said = map.predicted[i];
  const answer = document.createElement("span");
  answer.className = said === label ? "right" : "wrong";
  answer.textContent = `the network says ${said} (${Math.round(100 * map.probability[i])}%)`;
  info.replaceChildren(`a ${label}: `, answer);
}

// A ring around the dot at (x, y) pointed at, on the map's 2-D context g.
function ringDot(g, x, y) {
  g.strokeStyle = "black";
  g.lineWidth = 2;
  g.beginPath();
  g.arc(x, y, 7, 0, 2 * Math.PI);
  g.stroke();
}

// matplotlib's tab10, as the report's points map: the true digit's colour
const DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// The points map's dots at their screen places, coloured by the true digit; a black cross on
// each the network reads wrong (a ring is the dot pointed at).
function drawDots(g, screen, labels, predicted) {
  screen.forEach(([x, y], i) => {
    g.fillStyle = DIGIT_COLORS[labels[i] % 10];
    g.beginPath();
    g.arc(x, y, 2.6, 0, 2 * Math.PI);
    g.fill();
  });
  g.strokeStyle = "black";
  g.lineWidth = 1.3;
  screen.forEach(([x, y], i) => {
    if (predicted[i] === labels[i]) return;
    g.beginPath();
    g.moveTo(x - 3.5, y - 3.5);
    g.lineTo(x + 3.5, y + 3.5);
    g.moveTo(x + 3.5, y - 3.5);
    g.lineTo(x - 3.5, y + 3.5);
    g.stroke();
  });
}
