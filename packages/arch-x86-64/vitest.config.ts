import { hugemmProject } from "@hugemm/vitest-config";

export default hugemmProject("arch-x86-64");
