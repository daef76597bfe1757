import { hugemmProject } from "@hugemm/vitest-config";

export default hugemmProject("generator", { testTimeout: 120_000 });
