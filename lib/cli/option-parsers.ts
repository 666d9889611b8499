import { InvalidArgumentError } from "commander";

/** A commander parser for a flag that takes a positive whole number. */
export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
      throw new InvalidArgumentError(`${flag} takes a positive whole number, e.g. ${flag} 4.`);
    }
    return number;
  };
}

/** A commander reducer for a repeatable flag: collects every value in order. */
export function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}
