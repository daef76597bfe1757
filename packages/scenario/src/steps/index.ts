import type { StepDefinition } from "../registry";
import { read, write } from "./access";
import { checkpoint, expect, set } from "./control";
import { compact, kswapd, migrate, migrate_finish, pageout, pressure, shrink, split } from "./memory";
import { pin, unpin } from "./pin";
import { clear_refs, lru_add_drain } from "./proc";
import { exit, fork, spawn } from "./process";
import { madvise, mmap, mprotect, mremap, munmap } from "./vm";

/** A step definition with its argument type erased, for the registry. */
function erase<A>(def: StepDefinition<A>): StepDefinition {
  return def as unknown as StepDefinition;
}

/** The package's own steps, by name. */
export const BUILTIN_STEPS: Readonly<Record<string, StepDefinition>> = Object.fromEntries(Object.entries({
  mmap,
  munmap,
  mprotect,
  mremap,
  madvise,
  read,
  write,
  fork,
  spawn,
  exit,
  pin,
  unpin,
  migrate,
  migrate_finish,
  pageout,
  pressure,
  kswapd,
  compact,
  split,
  shrink,
  clear_refs,
  lru_add_drain,
  set,
  checkpoint,
  expect,
}).map(([name, def]) => [name, erase(def as StepDefinition<never>)]));
