// Files imported with `{ type: "text" }` are strings, bundled into the compiled executable.
declare module "*.yaml" {
  const text: string;
  export default text;
}
