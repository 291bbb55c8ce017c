// Copies the browser builds of the pinned GraphiQL, React and explorer plugin from node_modules
// (installed with `npm ci` from package-lock.json) into the Python package, where planapi serves
// them itself: GraphiQL works offline and under a CSP that allows nothing from elsewhere.
//
//   npm ci && node vendor.mjs          write src/planapi/entrypoints/static/graphiql/vendor/
//   npm ci && node vendor.mjs --check  exit 1 when the committed files differ from the lock's
//
// The files are committed (see docs/deployment.md): a fresh clone's `./dev serve` and the
// container image then need neither Node nor a network.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "..", "src", "planapi", "entrypoints", "static", "graphiql", "vendor");
const modules = join(here, "node_modules");

// served name -> [package, file inside it]; the order is the order the page loads them in.
const FILES = {
  "react.production.min.js": ["react", "umd/react.production.min.js"],
  "react-dom.production.min.js": ["react-dom", "umd/react-dom.production.min.js"],
  "graphiql.min.js": ["graphiql", "graphiql.min.js"],
  "graphiql.min.css": ["graphiql", "graphiql.min.css"],
  "plugin-explorer.umd.js": ["@graphiql/plugin-explorer", "dist/index.umd.js"],
  "plugin-explorer.css": ["@graphiql/plugin-explorer", "dist/style.css"],
};

const check = process.argv.includes("--check");
const manifest = { generatedBy: "tools/graphiql/vendor.mjs", files: {} };
let stale = [];
mkdirSync(target, { recursive: true });
for (const [name, [pkg, file]] of Object.entries(FILES)) {
  const version = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
  const body = readFileSync(join(modules, pkg, file));
  const integrity = "sha384-" + createHash("sha384").update(body).digest("base64");
  manifest.files[name] = { package: pkg, version, source: file, integrity };
  const out = join(target, name);
  if (check) {
    if (!existsSync(out) || !readFileSync(out).equals(body)) stale.push(name);
  } else {
    writeFileSync(out, body);
  }
}
const manifestText = JSON.stringify(manifest, null, 2) + "\n";
const manifestPath = join(target, "manifest.json");
if (check) {
  if (!existsSync(manifestPath) || readFileSync(manifestPath, "utf8") !== manifestText) {
    stale.push("manifest.json");
  }
  if (stale.length) {
    console.error(`stale GraphiQL assets (run: cd tools/graphiql && npm ci && node vendor.mjs): ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log("GraphiQL assets match tools/graphiql/package-lock.json");
} else {
  writeFileSync(manifestPath, manifestText);
  console.log(`wrote ${Object.keys(FILES).length} files and manifest.json to ${target}`);
}
