// The dashboard's only way to the gateway: same-origin calls with the key
// the operator signed in with. Errors keep the gateway's OpenAI-shaped
// message so the page can show it as it is.
const KEY_STORAGE = 'aigw_dashboard_key';
const TENANT_STORAGE = 'aigw_dashboard_tenant';

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code: string | null,
    public param: string | null = null,
  ) {
    super(message);
  }
}

export const session = {
  key: (): string => sessionStorage.getItem(KEY_STORAGE) ?? '',
  setKey: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  tenant: (): string => sessionStorage.getItem(TENANT_STORAGE) ?? '',
  setTenant: (tenant: string) => sessionStorage.setItem(TENANT_STORAGE, tenant),
  signOut: () => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(TENANT_STORAGE);
  },
};

// Adds ?tenantId= when the operator (ADMIN_API_KEY) picked a tenant.
export function withTenant(path: string, tenant = session.tenant()): string {
  if (!tenant) return path;
  return path + (path.includes('?') ? '&' : '?') + 'tenantId=' + encodeURIComponent(tenant);
}

// The operator's tenant as a request body member ({} for a tenant's own key).
export const tenantMember = (): { tenantId?: string } => (session.tenant() ? { tenantId: session.tenant() } : {});

export async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${session.key()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    let code: string | null = null;
    let param: string | null = null;
    try {
      const err = (await res.json()).error;
      if (err?.message) message = err.message;
      code = err?.code ?? null;
      param = err?.param ?? null;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message, code, param);
  }
  return res;
}

export async function getJson<T = any>(path: string): Promise<T> {
  return (await call('GET', path)).json();
}

export async function send<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await call(method, path, body)).json();
}
