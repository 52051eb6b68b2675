#!/usr/bin/env node
// Validates a Teams app manifest, and its localization files, against Microsoft's JSON schemas, offline.
//
//   node manifest/validate.js path/to/manifest.json [path/to/vi.json ...]
//
// The schemas are the ones the pinned @microsoft/app-manifest package ships for the manifest's
// `manifestVersion` (build/json-schemas/teams/v<version>/MicrosoftTeams.schema.json, and
// MicrosoftTeams.Localization.schema.json beside it for the localization files, which must declare
// that same version's schema); the validator is ajv for the JSON Schema draft each schema declares.
// Exit status: 0 valid, 1 invalid manifest, 2 cannot validate (usage, packages missing, no
// schema for that version).
"use strict";

const fs = require("fs");
const path = require("path");

const INSTALL = "run `npm ci --prefix manifest --no-audit --no-fund`";

function stop(status, message) {
  process.stderr.write(`${message}\n`);
  process.exit(status);
}

// The JSON Schema drafts ajv knows, by the URI a schema declares in `$schema`.
const DRAFTS = {
  "http://json-schema.org/draft-04/schema#": ["draft-04", () => require("ajv-draft-04")],
  "http://json-schema.org/draft-06/schema#": ["draft-06", () => require("ajv").default],
  "http://json-schema.org/draft-07/schema#": ["draft-07", () => require("ajv").default],
  "https://json-schema.org/draft/2019-09/schema": ["2019-09", () => require("ajv/dist/2019").default],
  "https://json-schema.org/draft/2020-12/schema": ["2020-12", () => require("ajv/dist/2020").default],
};

function loadManifest(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    return stop(2, `${file}: ${error.message}`);
  }
}

function loadSchema(version, name = "MicrosoftTeams.schema.json") {
  let pkg;
  try {
    pkg = require("@microsoft/app-manifest/package.json");
  } catch {
    return stop(2, `@microsoft/app-manifest is not installed: ${INSTALL}`);
  }
  const relative = `build/json-schemas/teams/v${version}/${name}`;
  const file = path.join(path.dirname(require.resolve("@microsoft/app-manifest/package.json")), relative);
  if (!fs.existsSync(file)) {
    return stop(2, `@microsoft/app-manifest ${pkg.version} ships no ${name} for manifest version ${version}`);
  }
  return { schema: JSON.parse(fs.readFileSync(file, "utf8")), source: `@microsoft/app-manifest ${pkg.version}` };
}

function compile(schema, options = {}) {
  const draft = DRAFTS[schema.$schema];
  if (!draft) {
    return stop(2, `the schema declares ${JSON.stringify(schema.$schema)}, a JSON Schema draft ajv does not support`);
  }
  const [name, load] = draft;
  let Ajv;
  let addFormats;
  try {
    Ajv = load();
    addFormats = require("ajv-formats");
  } catch (error) {
    return stop(2, `ajv is not installed (${error.message.split("\n")[0]}): ${INSTALL}`);
  }
  // strictTypes is off as in Microsoft's own validator: their schemas use keywords such as
  // `additionalProperties` without a `type` next to them, which ajv's strict mode reports as a
  // lint of the schema, not as a fault of the manifest. Unknown keywords still fail (strictSchema).
  const ajv = new Ajv({ allErrors: true, strictTypes: false, ...options });
  addFormats(ajv);
  try {
    return { validate: ajv.compile(schema), draft: name };
  } catch (error) {
    return stop(2, `the schema does not compile: ${error.message}`);
  }
}

function describe(error) {
  const where = error.instancePath || "(root)";
  let detail = "";
  if (error.keyword === "enum") {
    detail = ` (allowed: ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")})`;
  } else if (error.keyword === "additionalProperties") {
    detail = ` (${JSON.stringify(error.params.additionalProperty)})`;
  } else if (error.keyword === "const") {
    detail = ` (${JSON.stringify(error.params.allowedValue)})`;
  }
  return `${where}: ${error.message}${detail}`;
}

function main(argv) {
  if (argv.length < 1) {
    stop(2, "usage: node manifest/validate.js <manifest.json> [<localization.json> ...]");
  }
  const [file, ...localizations] = argv;
  const manifest = loadManifest(file);
  const version = manifest.manifestVersion;
  if (typeof version !== "string" || !/^\d+\.\d+$/.test(version)) {
    stop(1, `${file}: manifestVersion must be a released version such as "1.30", not ${JSON.stringify(version)}`);
  }
  const expected = `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;
  if (manifest.$schema !== expected) {
    stop(1, `${file}: $schema must be ${expected} for manifestVersion ${version}, not ${JSON.stringify(manifest.$schema)}`);
  }
  const { schema, source } = loadSchema(version);
  const { validate, draft } = compile(schema);
  if (!validate(manifest)) {
    const problems = [...new Set(validate.errors.map(describe))];
    stop(1, [`${path.basename(file)} does not match the v${version} schema of ${source}:`, ...problems.map((p) => `  ${p}`)].join("\n"));
  }
  const report = [`${path.basename(file)}: valid against the v${version} schema of ${source} (JSON Schema ${draft})`];
  for (const other of localizations) {
    report.push(checkLocalization(other, version));
  }
  process.stdout.write(report.join("\n") + "\n");
}

// A localization file: the Localization schema of the manifest's own version, declared in its `$schema`.
function checkLocalization(file, version) {
  const strings = loadManifest(file);
  const expected = `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.Localization.schema.json`;
  if (strings.$schema !== expected) {
    stop(1, `${file}: $schema must be ${expected}, the localization schema of manifest version ${version}, not ${JSON.stringify(strings.$schema)}`);
  }
  const { schema, source } = loadSchema(version, "MicrosoftTeams.Localization.schema.json");
  // Its key patterns are ECMA-262 regular expressions, not all valid in Unicode mode (one has a lone `]`):
  // read them as JSON Schema says, without the `u` flag ajv adds by default.
  const { validate, draft } = compile(schema, { unicodeRegExp: false });
  if (!validate(strings)) {
    const problems = [...new Set(validate.errors.map(describe))];
    stop(1, [`${path.basename(file)} does not match the v${version} localization schema of ${source}:`, ...problems.map((p) => `  ${p}`)].join("\n"));
  }
  return `${path.basename(file)}: valid against the v${version} localization schema of ${source} (JSON Schema ${draft})`;
}

main(process.argv.slice(2));
