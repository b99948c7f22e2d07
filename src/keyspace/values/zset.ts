import { MemberChanges, type TrackedCollection } from './changes.js';
import { registerValueOps } from '../value-ops.js';
import { beforeEdge, MemberPages, PageFault, type LexQuery, type ScoreQuery } from '../paging.js';
import { ScanOrder } from './set.js';

/**
 * Sorted set values: a Map member -> score for O(1) lookups, plus an ordered
 * index for rank and range operations.
 *
 * The index is a counted B+tree ordered by (score, member bytes): leaves hold
 * up to LEAF_MAX (member, score) pairs in two parallel arrays and are linked
 * both ways for range walks; inner nodes hold their children, each child's
 * element count (for rank arithmetic) and a separator key per child. Every
 * operation (insert, remove, rank of an element, element at a rank, count of
 * elements below a score or lex bound) is O(log n), and the flat arrays
 * cost far less memory per member than skip-list nodes would.
 *
 * Members are latin1 strings (one char per byte), so JS string comparison is
 * byte-wise comparison, which is what Redis uses (memcmp) for ties and lex
 * ranges.
 */

const LEAF_MAX = 128;
const INNER_MAX = 64;

class Leaf {
  next: Leaf | null = null;
  prev: Leaf | null = null;
  constructor(
    public members: string[],
    public scores: number[],
  ) {}
}

class Inner {
  constructor(
    public children: Node[],
    /** elements in each child's subtree */
    public counts: number[],
    /**
     * separator keys: every element of children[j] is >= (sepS[j], sepM[j]),
     * and every element of children[j-1] is below it. sep[0] is the node's own
     * separator in its parent (unused for the leftmost node).
     */
    public sepS: number[],
    public sepM: string[],
    public size: number,
  ) {}
}

type Node = Leaf | Inner;

/** Order of (score, member) pairs: by score, then by member bytes. */
export function compareEntries(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

function nodeSize(n: Node): number {
  return n instanceof Leaf ? n.members.length : n.size;
}

/** first index i of the leaf with (scores[i], members[i]) >= (s, m) */
function leafLowerBound(leaf: Leaf, s: number, m: string): number {
  let lo = 0;
  let hi = leaf.members.length;
  const ss = leaf.scores;
  const ms = leaf.members;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(ss[mid]!, ms[mid]!, s, m) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** index of the child of `node` whose range holds (s, m) */
function childFor(node: Inner, s: number, m: string): number {
  let lo = 1;
  let hi = node.children.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(node.sepS[mid]!, node.sepM[mid]!, s, m) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * A predicate over (score, member) that is true for a prefix of the order
 * and false after it, e.g. "score < min".
 */
export type Bound = (score: number, member: string) => boolean;

/** The ordered index of a sorted set (see the module comment). */
export class ScoreTree {
  private root: Node = new Leaf([], []);
  private head: Leaf;
  private tail: Leaf;

  constructor() {
    this.head = this.tail = this.root as Leaf;
  }

  get size(): number {
    return nodeSize(this.root);
  }

  insert(s: number, m: string): void {
    const split = this.ins(this.root, s, m);
    if (split !== null) {
      const old = this.root;
      const [fs, fm] = firstKey(split);
      this.root = new Inner([old, split], [nodeSize(old), nodeSize(split)], [-Infinity, fs], ['', fm], nodeSize(old) + nodeSize(split));
    }
  }

  /** Remove (s, m); false if it is not there. */
  remove(s: number, m: string): boolean {
    if (!this.del(this.root, s, m)) return false;
    while (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0]!;
    if (this.root instanceof Leaf) this.head = this.tail = this.root;
    return true;
  }

  /** 0-based rank of (s, m), which must be present. */
  rankOf(s: number, m: string): number {
    let node = this.root;
    let rank = 0;
    while (node instanceof Inner) {
      const j = childFor(node, s, m);
      const counts = node.counts;
      for (let k = 0; k < j; k++) rank += counts[k]!;
      node = node.children[j]!;
    }
    return rank + leafLowerBound(node, s, m);
  }

  /** How many leading elements satisfy `before` (a prefix predicate). */
  countWhile(before: Bound): number {
    let node = this.root;
    let rank = 0;
    while (node instanceof Inner) {
      let lo = 1;
      let hi = node.children.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(node.sepS[mid]!, node.sepM[mid]!)) lo = mid + 1;
        else hi = mid;
      }
      const j = lo - 1;
      const counts = node.counts;
      for (let k = 0; k < j; k++) rank += counts[k]!;
      node = node.children[j]!;
    }
    let lo = 0;
    let hi = node.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(node.scores[mid]!, node.members[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return rank + lo;
  }

  /** The leaf and index of the element at `rank` (0 <= rank < size). */
  private locate(rank: number): [Leaf, number] {
    if (rank < this.head.members.length) return [this.head, rank];
    let node = this.root;
    while (node instanceof Inner) {
      const counts = node.counts;
      let j = 0;
      while (j < counts.length - 1 && rank >= counts[j]!) rank -= counts[j++]!;
      node = node.children[j]!;
    }
    return [node, rank];
  }

  /**
   * Visit elements from `rank` on, in ascending order (or descending with
   * `reverse`), until `fn` returns false or the set ends.
   */
  walk(rank: number, reverse: boolean, fn: (member: string, score: number) => boolean | void): void {
    if (rank < 0 || rank >= this.size) return;
    let [leaf, i] = this.locate(rank);
    let cur: Leaf | null = leaf;
    if (!reverse) {
      while (cur !== null) {
        const ms = cur.members;
        const ss = cur.scores;
        for (; i < ms.length; i++) if (fn(ms[i]!, ss[i]!) === false) return;
        cur = cur.next;
        i = 0;
      }
    } else {
      while (cur !== null) {
        const ms = cur.members;
        const ss = cur.scores;
        for (; i >= 0; i--) if (fn(ms[i]!, ss[i]!) === false) return;
        cur = cur.prev;
        if (cur !== null) i = cur.members.length - 1;
      }
    }
  }

  first(): [string, number] | undefined {
    const h = this.head;
    return h.members.length > 0 ? [h.members[0]!, h.scores[0]!] : undefined;
  }

  last(): [string, number] | undefined {
    const t = this.tail;
    const n = t.members.length;
    return n > 0 ? [t.members[n - 1]!, t.scores[n - 1]!] : undefined;
  }

  /** Element at rank, or undefined. */
  at(rank: number): [string, number] | undefined {
    if (rank < 0 || rank >= this.size) return undefined;
    const [leaf, i] = this.locate(rank);
    return [leaf.members[i]!, leaf.scores[i]!];
  }

  private ins(node: Node, s: number, m: string): Node | null {
    if (node instanceof Leaf) {
      const ms = node.members;
      if (ms.length === 0 || compareEntries(node.scores[ms.length - 1]!, ms[ms.length - 1]!, s, m) < 0) {
        ms.push(m);
        node.scores.push(s);
      } else {
        const i = leafLowerBound(node, s, m);
        ms.splice(i, 0, m);
        node.scores.splice(i, 0, s);
      }
      if (ms.length <= LEAF_MAX) return null;
      // Appending in order (bulk loads) splits unevenly to keep leaves full.
      const h = node.next === null && ms[ms.length - 1] === m && node.scores[ms.length - 1] === s ? LEAF_MAX - 8 : ms.length >> 1;
      const right = new Leaf(ms.splice(h), node.scores.splice(h));
      right.next = node.next;
      if (right.next !== null) right.next.prev = right;
      else this.tail = right;
      right.prev = node;
      node.next = right;
      return right;
    }
    const j = childFor(node, s, m);
    node.counts[j]!++;
    node.size++;
    const split = this.ins(node.children[j]!, s, m);
    if (split === null) return null;
    const moved = nodeSize(split);
    node.counts[j]! -= moved;
    const [fs, fm] = firstKey(split);
    node.children.splice(j + 1, 0, split);
    node.counts.splice(j + 1, 0, moved);
    node.sepS.splice(j + 1, 0, fs);
    node.sepM.splice(j + 1, 0, fm);
    if (node.children.length <= INNER_MAX) return null;
    const h = node.children.length >> 1;
    const counts = node.counts.splice(h);
    let size = 0;
    for (const c of counts) size += c;
    node.size -= size;
    return new Inner(node.children.splice(h), counts, node.sepS.splice(h), node.sepM.splice(h), size);
  }

  private del(node: Node, s: number, m: string): boolean {
    if (node instanceof Leaf) {
      const i = leafLowerBound(node, s, m);
      if (i >= node.members.length || node.members[i] !== m || node.scores[i] !== s) return false;
      node.members.splice(i, 1);
      node.scores.splice(i, 1);
      return true;
    }
    const j = childFor(node, s, m);
    if (!this.del(node.children[j]!, s, m)) return false;
    node.counts[j]!--;
    node.size--;
    this.rebalance(node, j);
    return true;
  }

  /** After a removal under parent.children[j]: merge it with a sibling if it got small. */
  private rebalance(parent: Inner, j: number): void {
    const child = parent.children[j]!;
    const isLeaf = child instanceof Leaf;
    const max = isLeaf ? LEAF_MAX : INNER_MAX;
    const len = (n: Node) => (n instanceof Leaf ? n.members.length : n.children.length);
    const n = len(child);
    if (n >= max >> 2 || parent.children.length < 2) return;
    let l: number;
    if (j + 1 < parent.children.length && n + len(parent.children[j + 1]!) <= max) l = j;
    else if (j > 0 && len(parent.children[j - 1]!) + n <= max) l = j - 1;
    else return;
    const r = l + 1;
    const a = parent.children[l]!;
    const b = parent.children[r]!;
    if (a instanceof Leaf) {
      const bl = b as Leaf;
      for (let k = 0; k < bl.members.length; k++) {
        a.members.push(bl.members[k]!);
        a.scores.push(bl.scores[k]!);
      }
      a.next = bl.next;
      if (bl.next !== null) bl.next.prev = a;
      else this.tail = a;
      if (this.head === bl) this.head = a;
    } else {
      const bi = b as Inner;
      bi.sepS[0] = parent.sepS[r]!;
      bi.sepM[0] = parent.sepM[r]!;
      for (let k = 0; k < bi.children.length; k++) {
        a.children.push(bi.children[k]!);
        a.counts.push(bi.counts[k]!);
        a.sepS.push(bi.sepS[k]!);
        a.sepM.push(bi.sepM[k]!);
      }
      a.size += bi.size;
    }
    parent.counts[l]! += parent.counts[r]!;
    parent.children.splice(r, 1);
    parent.counts.splice(r, 1);
    parent.sepS.splice(r, 1);
    parent.sepM.splice(r, 1);
  }

  /** Consistency check for tests: ordering, counts, links. Throws on corruption. */
  verify(): void {
    let prev: [number, string] | undefined;
    let total = 0;
    const check = (node: Node, lo: [number, string] | undefined, hi: [number, string] | undefined): number => {
      if (node instanceof Leaf) {
        for (let i = 0; i < node.members.length; i++) {
          const s = node.scores[i]!;
          const m = node.members[i]!;
          if (prev && compareEntries(prev[0], prev[1], s, m) >= 0) throw new Error('order');
          if (lo && compareEntries(lo[0], lo[1], s, m) > 0) throw new Error('lower separator');
          if (hi && compareEntries(s, m, hi[0], hi[1]) >= 0) throw new Error('upper separator');
          prev = [s, m];
        }
        total += node.members.length;
        return node.members.length;
      }
      let sum = 0;
      for (let j = 0; j < node.children.length; j++) {
        const clo: [number, string] | undefined = j === 0 ? lo : [node.sepS[j]!, node.sepM[j]!];
        const chi: [number, string] | undefined = j + 1 < node.children.length ? [node.sepS[j + 1]!, node.sepM[j + 1]!] : hi;
        const n = check(node.children[j]!, clo, chi);
        if (n !== node.counts[j]) throw new Error('count');
        sum += n;
      }
      if (sum !== node.size) throw new Error('size');
      return sum;
    };
    check(this.root, undefined, undefined);
    let n = 0;
    for (let l: Leaf | null = this.head; l !== null; l = l.next) {
      if (l.next !== null && l.next.prev !== l) throw new Error('links');
      if (l.next === null && l !== this.tail) throw new Error('tail');
      n += l.members.length;
    }
    if (n !== total) throw new Error('leaf chain');
  }
}

function firstKey(n: Node): [number, string] {
  if (n instanceof Leaf) return [n.scores[0]!, n.members[0]!];
  return [n.sepS[0]!, n.sepM[0]!];
}

/** Bytes a member costs beyond its own length (Map entry, leaf slots, string header): 155 bytes of RSS a 16-byte member, measured. */
const MEMBER_OVERHEAD = 140;
const ZSET_OVERHEAD = 96;

/** Bytes accounted per element of a paged sorted set's rank window. */
const WINDOW_ITEM_OVERHEAD = 16;

/**
 * Paging state of a sorted set: beyond the members read so far, a window of
 * consecutive ranks [lo, lo + items.length) read in order (ZRANGE, ZRANK,
 * pops), kept in step with every change so it stays true until evicted.
 */
export class ZSetPages extends MemberPages {
  window: { lo: number; items: Array<[string, number]> } | null = null;
  /** the score of every member, once a lex read found them all equal, until a member gets another */
  commonScore: number | undefined = undefined;
}

/** A sorted set. Mutate only through its methods: they keep the index and change tracking in step. */
export class ZSetValue implements TrackedCollection {
  /** every member's score, or while paged the ones read so far (and those set since) */
  readonly dict = new Map<string, number>();
  /** ordered index of `dict` (empty while paged: the window stands in for it) */
  readonly tree = new ScoreTree();
  /** total bytes of member names */
  bytes = 0;
  changes = new MemberChanges();
  /** set while the value holds only some of its members (keyspace/paging.ts) */
  pages: ZSetPages | null = null;
  /**
   * Whether Redis would hold this set in its compact encoding (a listpack),
   * which stores a -0 score as 0; its skiplist keeps -0. Redis turns a
   * listpack into a skiplist when a member would not fit, or for SORT, and
   * back only when a *STORE result fits (commands/zsets.ts decides, from the
   * zset-max-listpack-* limits). Kept in the key row (zsetCodec.rowNote).
   */
  compact = true;
  /** ZSCAN order, built on first use and dropped by any change of membership */
  private scanOrder: ScanOrder | undefined;

  get size(): number {
    return this.pages ? this.pages.total : this.dict.size;
  }

  /** The stateless ZSCAN cursor order (shared with HSCAN/SSCAN). */
  scan(): ScanOrder {
    if (this.pages) throw new PageFault('a scan');
    return (this.scanOrder ??= new ScanOrder(this.dict.keys()));
  }

  score(member: string): number | undefined {
    const s = this.dict.get(member);
    if (s === undefined && this.pages && !this.pages.absent.has(member)) throw new PageFault('a score');
    return s;
  }

  /**
   * Set a member's score. Returns 'added', 'updated' or 'same' (the score was
   * already equal: nothing changed).
   */
  set(member: string, score: number): 'added' | 'updated' | 'same' {
    // A listpack stores -0 as the integer 0; a skiplist keeps the double.
    if (score === 0 && this.compact) score = 0;
    const old = this.score(member);
    const p = this.pages;
    if (p !== null && p.commonScore !== score) p.commonScore = undefined;
    if (old !== undefined) {
      // -0 and 0 compare equal, as in Redis (no update).
      if (old === score) return 'same';
      if (p) {
        this.windowRemove(old, member);
        this.windowInsert(score, member);
      } else {
        this.tree.remove(old, member);
        this.tree.insert(score, member);
      }
      this.dict.set(member, score);
      this.changes.mark(member);
      return 'updated';
    }
    this.dict.set(member, score);
    if (p) {
      p.total++;
      p.unmarkAbsent(member);
      this.windowInsert(score, member);
    } else {
      this.tree.insert(score, member);
    }
    this.bytes += member.length;
    this.changes.markAdded(member);
    this.scanOrder = undefined;
    return 'added';
  }

  remove(member: string): boolean {
    const old = this.score(member);
    if (old === undefined) return false;
    this.dict.delete(member);
    this.bytes -= member.length;
    const p = this.pages;
    if (p) {
      p.total--;
      p.markAbsent(member);
      this.windowRemove(old, member);
    } else {
      this.tree.remove(old, member);
    }
    this.changes.mark(member);
    this.scanOrder = undefined;
    return true;
  }

  /** 0-based rank in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const s = this.score(member);
    if (s === undefined) return undefined;
    if (!this.pages) return this.tree.rankOf(s, member);
    const w = this.pages.window;
    const i = w ? windowIndex(w.items, s, member) : -1;
    if (!w || i >= w.items.length || w.items[i]![0] !== member) throw new PageFault('a rank');
    return w.lo + i;
  }

  /** Element at a 0-based ascending rank. */
  at(rank: number): [string, number] | undefined {
    if (!this.pages) return this.tree.at(rank);
    if (rank < 0 || rank >= this.pages.total) return undefined;
    const w = this.pages.window;
    const item = w?.items[rank - w.lo];
    if (item === undefined) throw new PageFault('an element by rank');
    return item;
  }

  /** Visit from `rank` (ascending, or descending with `reverse`) until `fn` returns false. */
  walk(rank: number, reverse: boolean, fn: (member: string, score: number) => boolean | void): void {
    if (!this.pages) return this.tree.walk(rank, reverse, fn);
    const total = this.pages.total;
    const w = this.pages.window;
    for (let r = rank; r >= 0 && r < total; r += reverse ? -1 : 1) {
      const item = w?.items[r - w.lo];
      if (item === undefined) throw new PageFault('a range of ranks');
      if (fn(item[0], item[1]) === false) return;
    }
  }

  /**
   * How many leading elements (ascending) satisfy the prefix predicate. A
   * paged value answers when its rank window holds the boundary: the first
   * element that fails, with the one before it (or the start of the set).
   */
  countWhile(before: Bound): number {
    if (!this.pages) return this.tree.countWhile(before);
    const w = this.pages.window;
    if (w === null) throw new PageFault('a score or lex range');
    let i = 0;
    while (i < w.items.length && before(w.items[i]![1], w.items[i]![0])) i++;
    if ((i === 0 && w.lo > 0) || (i === w.items.length && w.lo + i < this.pages.total)) {
      throw new PageFault('a score or lex range');
    }
    return w.lo + i;
  }

  /**
   * The elements of a score range in ascending order, or descending from the
   * top with `reverse`, skipping `offset` and taking up to `count` (negative:
   * all). Walks from the range's end, so a paged value needs only a window
   * around that end (ZSetCodec.fetch reads it).
   */
  rangeByScore(q: ScoreQuery): Array<[string, number]> {
    const { min, max } = q;
    return this.rangeWhere(q, q.minex ? (s) => s > min : (s) => s >= min, q.maxex ? (s) => s < max : (s) => s <= max);
  }

  /**
   * The elements of a lex range, as rangeByScore does score ranges; for a set
   * whose scores are all equal (what a paged value is read in part for).
   */
  rangeByLex(q: LexQuery): Array<[string, number]> {
    return this.rangeWhere(q, (_s, m) => !beforeEdge(m, q.min, q.min.ex), (_s, m) => beforeEdge(m, q.max, !q.max.ex));
  }

  /**
   * The elements that are `aboveMin` and `belowMax` (each true of a suffix,
   * resp. a prefix, of the set in order), ascending or with `reverse`
   * descending from the top, skipping `offset` and taking up to `count`.
   */
  private rangeWhere(q: { readonly reverse: boolean; readonly offset: number; readonly count: number }, aboveMin: Bound, belowMax: Bound): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    if (q.offset < 0 || q.count === 0) return out;
    const from = q.reverse
      ? this.countWhile(belowMax) - 1 - q.offset
      : this.countWhile((s, m) => !aboveMin(s, m)) + q.offset;
    if (from < 0 || from >= this.size) return out;
    this.walk(from, q.reverse, (m, s) => {
      if (!(q.reverse ? aboveMin(s, m) : belowMax(s, m))) return false;
      out.push([m, s]);
      return q.count < 0 || out.length < q.count;
    });
    return out;
  }

  /** Elements [start, end) in ascending order, as [member, score] pairs. */
  slice(start: number, end: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    if (end <= start) return out;
    this.walk(start, false, (m, s) => {
      out.push([m, s]);
      return out.length < end - start;
    });
    return out;
  }

  /** Add a row read from storage (no change tracking). */
  loadRow(member: string, score: number): void {
    if (this.dict.has(member)) return;
    this.dict.set(member, score);
    if (!this.pages) this.tree.insert(score, member);
    this.bytes += member.length;
  }

  /** Paged: whether the value knows if `member` is in it. */
  knows(member: string): boolean {
    return this.dict.has(member) || this.pages!.absent.has(member);
  }

  /** Paged: ascending ranks [lo, lo + items.length) as read from PostgreSQL (replaces the window). */
  setWindow(lo: number, items: Array<[string, number]>): void {
    const p = this.pages!;
    if (p.window) this.bytes -= p.window.items.length * WINDOW_ITEM_OVERHEAD;
    for (const [m, s] of items) this.loadRow(m, s);
    p.window = { lo, items };
    this.bytes += items.length * WINDOW_ITEM_OVERHEAD;
  }

  /** Stop paging once every row has been read (loadRow): build the ordered index. */
  unpage(): void {
    const p = this.pages;
    if (!p) return;
    if (p.window) this.bytes -= p.window.items.length * WINDOW_ITEM_OVERHEAD;
    this.pages = null;
    for (const [m, s] of this.dict) this.tree.insert(s, m);
  }

  /** A new element: the window shifts if it is below it, takes it if it falls inside. */
  private windowInsert(s: number, m: string): void {
    const w = this.pages!.window;
    if (!w) return;
    const i = windowIndex(w.items, s, m);
    if (i === 0) w.lo++;
    else if (i < w.items.length) {
      w.items.splice(i, 0, [m, s]);
      this.bytes += WINDOW_ITEM_OVERHEAD;
    }
  }

  private windowRemove(s: number, m: string): void {
    const p = this.pages!;
    const w = p.window;
    if (!w) return;
    const i = windowIndex(w.items, s, m);
    if (i < w.items.length && w.items[i]![0] === m) {
      w.items.splice(i, 1);
      this.bytes -= WINDOW_ITEM_OVERHEAD;
      if (w.items.length === 0) p.window = null;
    } else if (i === 0) w.lo--;
    else if (i < w.items.length) {
      // inside the window's span but not in it: it was not contiguous after all
      this.bytes -= w.items.length * WINDOW_ITEM_OVERHEAD;
      p.window = null;
    }
  }

  /**
   * Redis's skiplist-to-listpack conversion of a *STORE result: when every
   * member fits (count and length limits), the set becomes compact and its
   * -0 scores become 0.
   */
  compactIfFits(maxEntries: number, maxMemberBytes: number): void {
    if (this.compact || this.pages || this.size > maxEntries) return;
    for (const m of this.dict.keys()) if (m.length > maxMemberBytes) return;
    this.compact = true;
    for (const [m, s] of this.dict) {
      if (s !== 0 || 1 / s > 0) continue;
      this.tree.remove(s, m);
      this.tree.insert(0, m);
      this.dict.set(m, 0);
      this.changes.mark(m);
    }
  }

  /** An independent copy whose changes are fresh. */
  clone(): ZSetValue {
    if (this.pages) throw new PageFault('a copy');
    const v = new ZSetValue();
    v.compact = this.compact;
    this.tree.walk(0, false, (m, s) => {
      v.dict.set(m, s);
      v.tree.insert(s, m);
    });
    v.bytes = this.bytes;
    return v;
  }
}

/** First index of `items` (ascending) at or after (s, m). */
export function windowIndex(items: Array<[string, number]>, s: number, m: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const [im, is] = items[mid]!;
    if (compareEntries(is, im, s, m) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function zsetSize(v: ZSetValue): number {
  return ZSET_OVERHEAD + v.bytes + v.dict.size * MEMBER_OVERHEAD + (v.pages?.absentBytes ?? 0);
}

registerValueOps('zset', {
  length: (v) => (v as ZSetValue).size,
  sizeOf: (v) => zsetSize(v as ZSetValue),
  clone: (v) => (v as ZSetValue).clone(),
});
