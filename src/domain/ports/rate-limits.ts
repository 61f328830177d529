/** Signup limits shared by every API process. */
export interface SignupLimits {
  /** Takes one signup of this client IP: 0 when allowed, else the seconds to wait. */
  takeSignup(ip: string): Promise<number>;
  /** Takes one confirmation mail of this person (by id): false when the address's limit is reached. */
  takeConfirmMail(subscriberId: number): Promise<boolean>;
}

/** The one sending rate of all workers together. */
export interface SendRate {
  /** Resolves once `n` more messages may go. */
  take(n: number): Promise<void>;
}

/** Sign-in attempts, shared by every API process. */
export interface SignInLimits {
  /** Takes one attempt from this IP and this login: 0 when allowed, else the seconds to wait. */
  takeSignIn(ip: string, login: string): Promise<number>;
  /** A successful sign-in forgets the login's failed attempts (not the IP's). */
  clearLogin(login: string): Promise<void>;
}

/** Failed credentials at the admin API, counted per client IP and shared by every API process. */
export interface AuthFailureLimits {
  /** Seconds until this IP may try again (0 when it is not locked out). */
  lockedFor(ip: string): Promise<number>;
  /**
   * Counts one failed attempt of this IP. Returns the seconds of the lockout this attempt started, or 0 when the IP
   * is still under its limit (or was locked out already): a caller learns the lockout began exactly once.
   */
  fail(ip: string): Promise<number>;
}
