/**
 * Gathers the calls made during one turn of the event loop into one call per key, made at the end of that turn
 * (`setImmediate`: after the socket reads of the turn, so replies of many connections that arrived together are one
 * batch). Each caller's promise settles with its own answer once the batch's call settles, and rejects with the
 * batch's error when it fails, as it would have alone: a caller never learns "done" before the write is.
 */
export class TurnBatch<K, In, Out> {
  private readonly pending = new Map<K, { items: In[]; settle: Settle<Out>[] }>();
  private scheduled = false;

  /** `run` gets the items of one key in the order they were added and answers one result for each, in that order. */
  constructor(private readonly run: (key: K, items: In[]) => Promise<Out[]>) {}

  add(key: K, item: In): Promise<Out> {
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { items: [], settle: [] };
      this.pending.set(key, batch);
    }
    batch.items.push(item);
    const answer = new Promise<Out>((resolve, reject) => batch.settle.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return answer;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [key, { items, settle }] of batches) {
      // a `run` that throws rather than rejects fails its batch, not the turn
      Promise.resolve()
        .then(() => this.run(key, items))
        .then(
          (results) => settle.forEach((s, i) => s.resolve(results[i])),
          (err: unknown) => settle.forEach((s) => s.reject(err)),
        );
    }
  }
}

interface Settle<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}
