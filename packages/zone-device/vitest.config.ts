import { hugemmProject } from "@hugemm/vitest-config";

export default hugemmProject("zone-device");
