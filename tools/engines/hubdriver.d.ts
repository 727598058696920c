export interface HubSide { seen: number; c2dSent: number; desiredSent: number; methodsCalled: number; methodsOk: number; methods501: number; methodErrors: string[] }
export function driveHub(hub: any, id: string, o?: { http?: boolean; stopAt?: number; c2dEvery?: number; desiredEvery?: number; methodEvery?: number }): { side: HubSide; stop(): Promise<HubSide> };
