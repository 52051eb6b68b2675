// Checks Adaptive Cards with Microsoft's own `adaptivecards` library, for Teams' limit (schema 1.5).
// stdin: a JSON array of cards. stdout: a JSON array with, for each card, a list of readable problems
// (parse events, then validateProperties failures, then the charts' problems). Exit 0 whatever the cards;
// non-zero only if it cannot run.
// Teams' charts (`Chart.*`) are unknown to the library, which parses their fallback instead: that is checked
// as any element is, and the charts themselves against Teams' schema (charts.js says why and how).
"use strict";

// The library is written for browsers: give it a DOM before it loads.
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;

const AC = require("adaptivecards/dist/adaptivecards.js");
const { checkCharts, isChartUnknownToTheLibrary } = require("./charts.js");

// Anything the library logs must not mix with the JSON answer on stdout.
console.log = console.info = console.warn = console.error;

const TARGET = AC.Versions.v1_5;

function describe(event) {
    const phase = AC.ValidationPhase[event.phase];
    const kind = AC.ValidationEvent[event.event];
    const source = event.source && event.source.getJsonTypeName ? ` in ${event.source.getJsonTypeName()}` : "";
    return `${phase} ${kind}${source}: ${event.message}`;
}

function check(json) {
    const card = new AC.AdaptiveCard();
    const context = new AC.SerializationContext(TARGET);
    card.parse(json, context);
    const problems = [];
    for (let i = 0; i < context.eventCount; i++) {
        const problem = describe(context.getEventAt(i));
        if (!isChartUnknownToTheLibrary(problem)) {
            problems.push(problem);
        }
    }
    for (const event of card.validateProperties().validationEvents) {
        problems.push(describe(event));
    }
    if (card.version && card.version.compareTo(TARGET) > 0) {
        problems.push(`Version: card version ${card.version} is above Teams' limit ${TARGET}`);
    }
    problems.push(...checkCharts(json));
    return problems;
}

const input = require("fs").readFileSync(0, "utf8");
const cards = JSON.parse(input);
if (!Array.isArray(cards)) {
    throw new Error("expected a JSON array of cards on stdin");
}
const results = cards.map((json) => {
    try {
        return check(json);
    } catch (error) {
        return [`Crash: the library could not parse this card: ${error}`];
    }
});
process.stdout.write(JSON.stringify(results) + "\n");
