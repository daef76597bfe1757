import type { Vma } from "../mm/vma";
import { VM_ACCESS_FLAGS, VM_SOFTDIRTY } from "../mm/vm-flags";
import { Lock } from "../util/locks";

/**
 * anon_vma: the reverse-map anchor of anonymous folios. Folios point to the
 * anon_vma of the VMA that created them; every VMA that may map them (the
 * creator and, after fork, its descendants) is linked to that anon_vma
 * through an anon_vma_chain, so an rmap walk visits exactly those VMAs.
 */
export class AnonVma {
  /** The root of the fork tree; its lock serialises the whole tree. */
  root: AnonVma;
  /** Chains linking this anon_vma to the VMAs that may map its folios (anon_vma->rb_root). */
  readonly chains = new Set<AnonVmaChain>();
  /** References beyond the chains (folio_get_anon_vma during migration, fork reuse accounting). */
  refcount = 1;
  /**
   * anon_vma->num_children + num_active_vmas, folded into one count of
   * "users" for reuse decisions: a child anon_vma with one VMA and no children
   * may be reused by a new VMA at fork.
   */
  numChildren = 0;
  numActiveVmas = 0;
  readonly lock: Lock;

  constructor(
    readonly id: number,
    readonly parent: AnonVma | null,
  ) {
    this.root = parent === null ? this : parent.root;
    this.lock = parent === null ? new Lock("anonVma", `anon_vma#${id}`) : this.root.lock;
  }
}

/** anon_vma_chain: one (VMA, anon_vma) link. */
export class AnonVmaChain {
  constructor(
    readonly vma: Vma,
    readonly anonVma: AnonVma,
  ) {}
}

/** The anon_vma objects of a kernel, by mapping id (shared id space with address spaces). */
export class AnonVmas {
  readonly byId = new Map<number, AnonVma>();
  constructor(private readonly newId: () => number) {}

  create(parent: AnonVma | null): AnonVma {
    const av = new AnonVma(this.newId(), parent);
    this.byId.set(av.id, av);
    if (parent !== null) parent.numChildren++;
    return av;
  }

  link(vma: Vma, av: AnonVma): void {
    const avc = new AnonVmaChain(vma, av);
    vma.chains.push(avc);
    av.chains.add(avc);
  }

  /**
   * anon_vma_prepare: give `vma` an anon_vma, reusing a neighbour's when the
   * neighbour could merge with it (find_mergeable_anon_vma: the next VMA
   * first, then the previous) and has only its own.
   */
  prepare(vma: Vma, neighbours: readonly (Vma | undefined)[], pageSize: number): AnonVma {
    if (vma.anonVma !== null) return vma.anonVma;
    let av: AnonVma | null = null;
    const ordered = [...neighbours].sort((a, b) => (a !== undefined && a.start >= vma.end ? 0 : 1) - (b !== undefined && b.start >= vma.end ? 0 : 1));
    for (const n of ordered) {
      if (n === undefined || n.anonVma === null || n.chains.length !== 1) continue;
      if (anonVmaCompatible(n, vma, pageSize)) {
        av = n.anonVma;
        break;
      }
    }
    if (av === null) av = this.create(null);
    this.link(vma, av);
    vma.anonVma = av;
    av.numActiveVmas++;
    return av;
  }

  /** anon_vma_clone: `dst` gets a chain to every anon_vma `src` has (VMA split and copy). */
  clone(dst: Vma, src: Vma): void {
    for (const c of src.chains) this.link(dst, c.anonVma);
    dst.anonVma = src.anonVma;
    if (dst.anonVma !== null) dst.anonVma.numActiveVmas++;
  }

  /**
   * anon_vma_fork: the child VMA gets the parent's chains plus an anon_vma of
   * its own whose parent is the parent VMA's, so new COW copies stay out of
   * the parent's rmap walks.
   */
  fork(child: Vma, parent: Vma): void {
    if (parent.anonVma === null) return;
    for (const c of parent.chains) this.link(child, c.anonVma);
    const av = this.create(parent.anonVma);
    this.link(child, av);
    child.anonVma = av;
    av.numActiveVmas++;
  }

  /** unlink_anon_vmas: drop the VMA's chains and free anon_vmas nobody links to any more. */
  unlink(vma: Vma): void {
    if (vma.anonVma !== null) vma.anonVma.numActiveVmas--;
    for (const c of vma.chains) {
      c.anonVma.chains.delete(c);
    }
    for (const c of vma.chains) this.maybeFree(c.anonVma);
    vma.chains.length = 0;
    vma.anonVma = null;
  }

  /** Drop a reference taken with get(). */
  put(av: AnonVma): void {
    av.refcount--;
    this.maybeFree(av);
  }

  get(av: AnonVma): void {
    av.refcount++;
  }

  private maybeFree(av: AnonVma): void {
    if (av.chains.size > 0 || av.refcount > 1 || !this.byId.has(av.id)) return;
    if (av.numChildren > 0) return;
    this.byId.delete(av.id);
    if (av.parent !== null) {
      av.parent.numChildren--;
      this.maybeFree(av.parent);
    }
  }
}

/**
 * anon_vma_compatible: adjacent, the same file, flags equal apart from the
 * access bits and soft-dirty, and page offsets that continue across the boundary.
 */
export function anonVmaCompatible(a: Vma, b: Vma, pageSize: number): boolean {
  const [lo, hi] = a.end <= b.start ? [a, b] : [b, a];
  if (lo.end !== hi.start || lo.file !== hi.file) return false;
  if (((lo.flags ^ hi.flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) !== 0) return false;
  return hi.pgoff === lo.pgoff + (hi.start - lo.start) / pageSize;
}
