export { External } from "./external";
export { RoutedTo } from "./routed-to";
export { ReadOnly } from "./read-only";
export { Unmanaged, type UnmanagedOptions } from "./unmanaged";
export type { PlacementDecorator } from "./placement";
