// Builds static/build/: our compiled Sass, GOV.UK Frontend's JavaScript and
// images (not its fonts), and a VERSION file the tests check against the pin.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const govuk = join(here, "node_modules", "govuk-frontend");
const out = join(here, "..", "static", "build");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const css = sass.compile(join(here, "main.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter()],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "pipeline.css"), css.css);
cpSync(join(govuk, "dist", "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(govuk, "dist", "govuk", "assets", "images"), join(out, "assets", "images"), { recursive: true });
cpSync(join(govuk, "dist", "govuk", "assets", "manifest.json"), join(out, "assets", "manifest.json"));
const version = JSON.parse(readFileSync(join(govuk, "package.json"), "utf8")).version;
writeFileSync(join(out, "VERSION"), version + "\n");
console.log(`built static/build with govuk-frontend ${version}`);
