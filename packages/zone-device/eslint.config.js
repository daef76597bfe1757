export { default } from "@hugemm/eslint-config";
