/** Temporary variables and memoised path prefixes of one generated function. */
export class FunctionScope {
  private readonly temporaries: string[] = [];
  private readonly memos = new Map<string, string>();

  /** `sharedPrefixes` contains the keys, from prefixKey(), of the path prefixes to read once per call. */
  constructor(private readonly sharedPrefixes: ReadonlySet<string>) {}

  newTemporary(): string {
    const name = `t${this.temporaries.length}`;
    this.temporaries.push(name);
    return name;
  }

  /** Returns the variable that memoises a shared prefix, or undefined when the prefix is not shared. */
  memoFor(key: string): string | undefined {
    if (!this.sharedPrefixes.has(key)) return undefined;
    let name = this.memos.get(key);
    if (name === undefined) {
      name = `m${this.memos.size}`;
      this.memos.set(key, name);
    }
    return name;
  }

  /** Returns the `let` statement of the function, with each memo set to `unsetName`. */
  declarationSource(unsetName: string): string {
    const names = [...this.temporaries, ...[...this.memos.values()].map((name) => `${name} = ${unsetName}`)];
    return names.length === 0 ? '' : `let ${names.join(', ')}; `;
  }

  hasMemos(): boolean {
    return this.memos.size > 0;
  }
}
