/** The number of property-test cases to run: `n`, or more under HUGEMM_DEEP. */
export declare function propertyRuns(n: number): number;
