#!/usr/bin/env node
// `starling` on the PATH: runs the TypeScript CLI through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli.ts");
process.exit(await main(process.argv.slice(2)));
