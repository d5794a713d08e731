// Read one frame and one time course of a Zarr v3 array with zarrita.js; print them as JSON.
// usage: node zarrita_read.mjs NODE_MODULES STORE ARRAY FRAME ROW COL   (ROW/COL "-" for a 2-D array's column COL)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, root, path, frame, row, col] = process.argv.slice(2);
const entry = (name, sub = ".") => {
  const meta = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8"));
  return pathToFileURL(join(modules, name, meta.exports[sub].import)).href;
};
const zarr = await import(entry("zarrita"));
const { default: FileSystemStore } = await import(entry("@zarrita/storage", "./fs"));

const arr = await zarr.open(zarr.root(new FileSystemStore(root)).resolve(path), { kind: "array" });
const rest = arr.shape.slice(1).map(() => null);
const one = await zarr.get(arr, [Number(frame), ...rest]);
const course = row === "-" ? await zarr.get(arr, [null, Number(col)]) : await zarr.get(arr, [null, Number(row), Number(col)]);
console.log(JSON.stringify({ shape: arr.shape, dtype: arr.dtype, frame: Array.from(one.data), course: Array.from(course.data) }));
