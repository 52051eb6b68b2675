// Teams' chart elements (`Chart.*`), checked against their schema, which the adaptivecards library does not know.
//
// Teams draws charts natively in Adaptive Cards 1.5; Microsoft's `adaptivecards` JS library (the renderer of
// the Agents Playground and of this validator) has no chart elements: it parses a `Chart.*` element as an unknown
// type, says so (UnknownElementType) and renders its `fallback` instead. So a card with charts is checked twice:
//   - the library parses the card as a host without charts renders it, fallbacks in place of the charts, and
//     validates that (validate.js keeps all its findings but this one unknown-type event, for these types only);
//   - here, each chart as Teams reads it: a type Teams documents, its properties by name and type, its data
//     points' shapes and its colours from Teams' palette, and a fallback that is an element (a table, an
//     image): never missing nor `drop`, so that a host without charts shows the numbers instead of nothing.
// The schema is written from Teams' documentation ("Charts in Adaptive Cards", learn.microsoft.com) and the
// declarations of Microsoft's Teams SDK for cards (@microsoft/teams.cards), not taken from either.
"use strict";

const COLORS = new Set([
    "good", "warning", "attention", "neutral",
    ...["Red", "Purple", "Lavender", "Blue", "LightBlue", "Teal", "Green", "Lime", "Marigold"].map((c) => `categorical${c}`),
    ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => [`sequential${n}`, `sequentialRed${n}`, `sequentialGreen${n}`,
        `sequentialYellow${n}`]),
    ...["Blue", "LightBlue", "Cyan", "Teal", "Yellow", "Peach", "LightRed", "Red", "Maroon", "Gray"].map((c) => `diverging${c}`),
]);
const COLOR_SETS = new Set(["categorical", "sequential", "sequentialred", "sequentialgreen", "sequentialyellow",
    "diverging"]);

// What every element may carry (Adaptive Cards 1.5 in Teams).
const ELEMENT = {
    type: "string", id: "string", requires: "object", lang: "string", isVisible: "boolean", separator: "boolean",
    height: ["auto", "stretch"], horizontalAlignment: ["Left", "Center", "Right"],
    spacing: ["None", "ExtraSmall", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding"],
    targetWidth: "string", isSortKey: "boolean", "grid.area": "string", fallback: "fallback",
};
// What every chart may carry besides, and each chart's own.
const CHART = { title: "string", showTitle: "boolean", colorSet: "colorSet", maxWidth: "string", showLegend: "boolean" };
const AXES = { xAxisTitle: "string", yAxisTitle: "string", color: "color" };
const Y_RANGE = { yMin: "number", yMax: "number" };

const POINT = { x: "string|number", y: "number", color: "color" }; // Chart.VerticalBar
const LABELLED_POINT = { x: "string", y: "number", color: "color" }; // Chart.HorizontalBar
const SERIES_POINT = { x: "string", y: "number" }; // a value of a grouped bar's series
const LINE_POINT = { x: "string|number", y: "number" };
const SLICE = { legend: "string", value: "number", color: "color" }; // donut, pie, a stacked bar's part

const TYPES = {
    "Chart.VerticalBar": { ...CHART, ...AXES, ...Y_RANGE, showBarValues: "boolean", data: [POINT] },
    "Chart.VerticalBar.Grouped": {
        ...CHART, ...AXES, ...Y_RANGE, stacked: "boolean", showBarValues: "boolean",
        data: [{ legend: "string", color: "color", values: [SERIES_POINT] }],
    },
    "Chart.HorizontalBar": {
        ...CHART, ...AXES, displayMode: ["AbsoluteWithAxis", "AbsoluteNoAxis", "PartToWhole"], data: [LABELLED_POINT],
    },
    "Chart.HorizontalBar.Stacked": { ...CHART, ...AXES, data: [{ title: "string", data: [SLICE] }] },
    "Chart.Line": { ...CHART, ...AXES, ...Y_RANGE, data: [{ legend: "string", color: "color", values: [LINE_POINT] }] },
    "Chart.Donut": { ...CHART, data: [SLICE] },
    "Chart.Pie": { ...CHART, data: [SLICE], value: "string", valueColor: "color", thickness: "string", showOutlines: "boolean" },
    "Chart.Gauge": {
        ...CHART, min: "number", max: "number", value: "number", subLabel: "string", showMinMax: "boolean",
        showNeedle: "boolean", showOutlines: "boolean", valueFormat: ["Percentage", "Fraction"],
        segments: [{ legend: "string", size: "number", color: "color" }],
    },
};
const CHART_TYPES = new Set(Object.keys(TYPES));
// Microsoft's chart renderer (the one the Agents Playground ships) draws at most 4 data sets in these.
const MAX_DATA_SETS = { "Chart.VerticalBar.Grouped": 4, "Chart.HorizontalBar.Stacked": 4 };

function kind(value) {
    if (Array.isArray(value)) return "array";
    if (value === null) return "null";
    return typeof value;
}

// Problems of `value` against `rule` at `where`: a type name ("string", "string|number", ...), a list of the
// allowed strings, [shape] for a list of objects of that shape, or an object shape itself.
function check(value, rule, where, problems) {
    if (Array.isArray(rule) && typeof rule[0] === "string") {
        if (!rule.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} is not one of ${rule.join(", ")}`);
    } else if (Array.isArray(rule)) {
        if (!Array.isArray(value)) return problems.push(`${where}: expected a list, got ${kind(value)}`);
        value.forEach((item, i) => check(item, rule[0], `${where}[${i}]`, problems));
    } else if (typeof rule === "object") {
        if (kind(value) !== "object") return problems.push(`${where}: expected an object, got ${kind(value)}`);
        for (const [key, item] of Object.entries(value)) {
            if (!(key in rule)) problems.push(`${where}.${key}: not a property Teams knows here`);
            else check(item, rule[key], `${where}.${key}`, problems);
        }
    } else if (rule === "color") {
        if (!COLORS.has(value)) problems.push(`${where}: ${JSON.stringify(value)} is not a Teams chart colour`);
    } else if (rule === "colorSet") {
        if (!COLOR_SETS.has(value)) problems.push(`${where}: ${JSON.stringify(value)} is not a Teams chart colour set`);
    } else if (rule === "fallback") {
        if (kind(value) !== "object" || typeof value.type !== "string") {
            problems.push(`${where}: a chart needs an element to fall back to (a table or an image), not ${JSON.stringify(value)}`);
        }
    } else {
        const found = kind(value);
        const ok = rule.split("|").includes(found) && !(found === "number" && !Number.isFinite(value));
        if (!ok) problems.push(`${where}: expected ${rule}, got ${JSON.stringify(value)}`);
    }
    return problems;
}

// Every chart in the card, checked; each with where it is (`body[3]`, `body[2].items[0]`, ...).
function checkCharts(card) {
    const problems = [];
    const walk = (node, where) => {
        if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${where}[${i}]`));
        if (kind(node) !== "object") return;
        if (typeof node.type === "string" && node.type.startsWith("Chart.")) {
            const rule = TYPES[node.type];
            if (!rule) return problems.push(`Chart: ${where} is a ${node.type}, which Teams does not draw`);
            check(node, { ...ELEMENT, ...rule }, `Chart: ${where} (${node.type})`, problems);
            if (!("fallback" in node)) problems.push(`Chart: ${where} (${node.type}) has no fallback for hosts without charts`);
            if (!Array.isArray(node.data ?? node.segments) || (node.data ?? node.segments).length === 0) {
                problems.push(`Chart: ${where} (${node.type}) has no data to draw`);
            } else if (node.type in MAX_DATA_SETS && node.data.length > MAX_DATA_SETS[node.type]) {
                problems.push(`Chart: ${where} (${node.type}) has ${node.data.length} data sets; at most ${MAX_DATA_SETS[node.type]} are drawn`);
            }
        }
        for (const [key, value] of Object.entries(node)) walk(value, where ? `${where}.${key}` : key);
    };
    walk(card, "");
    return problems;
}

// The library's "unknown element type" for a chart Teams draws: expected, as its fallback is what was parsed.
function isChartUnknownToTheLibrary(problem) {
    const found = /^Parse UnknownElementType: Unknown element type "([^"]+)"/.exec(problem);
    return found !== null && CHART_TYPES.has(found[1]);
}

module.exports = { CHART_TYPES, checkCharts, isChartUnknownToTheLibrary };
