/**
 * `target.push(...items)` for lists of any length. A spread passes every item as an argument on
 * the stack, and V8 throws "Maximum call stack size exceeded" somewhere past ~100 000 of them: a
 * hostile capture has 50 000 findings of one check, hundreds of thousands of report lines, millions
 * of mappings.
 */
export function pushAll<T>(target: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
}
