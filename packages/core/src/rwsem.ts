/**
 * A counted read/write semaphore: the model of `mmap_lock` and of each file's
 * `i_mmap_rwsem`. vmalab is single-threaded, so nobody ever waits; what is
 * modelled is the number of acquisitions (the cost that batching removes) and
 * correct nesting, which is asserted.
 */
export class RwSem {
  readAcquisitions = 0;
  writeAcquisitions = 0;
  private readers = 0;
  private writer = false;

  constructor(readonly name: string) {}

  downRead(): void {
    if (this.writer) throw new Error(`${this.name}: read lock taken while write-locked`);
    this.readers++;
    this.readAcquisitions++;
  }
  upRead(): void {
    if (this.readers === 0) throw new Error(`${this.name}: read unlock without lock`);
    this.readers--;
  }
  downWrite(): void {
    if (this.writer || this.readers > 0)
      throw new Error(`${this.name}: write lock taken while held`);
    this.writer = true;
    this.writeAcquisitions++;
  }
  upWrite(): void {
    if (!this.writer) throw new Error(`${this.name}: write unlock without lock`);
    this.writer = false;
  }
  get held(): boolean {
    return this.writer || this.readers > 0;
  }
  get acquisitions(): number {
    return this.readAcquisitions + this.writeAcquisitions;
  }
}
