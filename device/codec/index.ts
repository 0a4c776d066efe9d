// The codec's public surface: constants, error codes, packet shapes, encoders, the decoder and framing.
export * from "./constants";
export * from "./errors";
export * from "./packets";
export * from "./encode";
export * from "./decode";
export * from "./framer";
export { hasProperty, propertyValue, repeatedPropertyAt, PropertyValue } from "./properties";
