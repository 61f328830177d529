import type { Campaign } from '../../src/domain/campaign';
import { campaignFigures, judgeRates } from '../../src/domain/campaign-health';

const limits = { maxComplaintRate: 0.003, maxBounceRate: 0.05, minMessages: 1000 };

/** A sending campaign with these counters (zero unless given). */
function sending(counts: Partial<Campaign> = {}): Campaign {
  return {
    id: 1,
    status: 'sending',
    subject: 'S',
    newsletter: 'news',
    articleIds: [1],
    total: 10000,
    sent: 0,
    failed: 0,
    skipped: 0,
    bounced: 0,
    lateBounces: 0,
    complained: 0,
    createdAt: '2026-11-27T12:00:00.000Z',
    maxSubscriberId: 10000,
    cursor: 0,
    queued: 0,
    fanoutDone: false,
    ...counts,
  };
}

describe('campaignFigures', () => {
  test('delivered is sent minus late bounces; bounced adds both kinds; the rates have their own divisors', () => {
    const f = campaignFigures({ sent: 990, bounced: 10, lateBounces: 15, complained: 5 });
    expect(f).toEqual({
      delivered: 975,
      bounced: 25,
      bouncedInSession: 10,
      lateBounces: 15,
      complained: 5,
      handedOff: 1000,
      bounceRate: 0.025,
      complaintRate: 0.005128,
    });
  });

  test('nothing handed off or delivered yet gives rates of 0, not NaN', () => {
    expect(campaignFigures({ sent: 0, bounced: 0, lateBounces: 0, complained: 0 })).toMatchObject({
      bounceRate: 0,
      complaintRate: 0,
    });
  });
});

describe('judgeRates', () => {
  test('under the minimum of messages nothing is judged, however bad', () => {
    expect(judgeRates(sending({ sent: 900, bounced: 99, complained: 50 }), limits)).toEqual({ pause: false });
  });

  test('a rate at the limit is not past it; one more complaint or bounce is', () => {
    expect(judgeRates(sending({ sent: 1000, complained: 3 }), limits)).toEqual({ pause: false });
    expect(judgeRates(sending({ sent: 1000, complained: 4 }), limits)).toMatchObject({
      pause: true,
      cause: 'complaint_rate',
      reason: 'paused: complaint rate 0.40% (4 of 1000 delivered) is above the limit of 0.30%',
    });
    expect(judgeRates(sending({ sent: 950, bounced: 50 }), limits)).toEqual({ pause: false });
    expect(judgeRates(sending({ sent: 960, bounced: 40, lateBounces: 11 }), limits)).toMatchObject({
      pause: true,
      cause: 'bounce_rate',
      reason: 'paused: hard-bounce rate 5.10% (51 of 1000 handed off) is above the limit of 5.00%',
    });
  });

  test('late bounces raise the complaint rate too: they take messages out of the delivered ones', () => {
    expect(judgeRates(sending({ sent: 1300, complained: 3 }), limits)).toEqual({ pause: false });
    expect(judgeRates(sending({ sent: 1300, complained: 3, lateBounces: 350 }), limits)).toMatchObject({
      cause: 'complaint_rate',
    });
  });

  test('after a resume only what came since counts, with the minimum counted afresh', () => {
    const resumedAt = { sent: 1000, bounced: 0, lateBounces: 0, complained: 10 };
    expect(judgeRates(sending({ sent: 1000, complained: 10, rateBaseline: resumedAt }), limits)).toEqual({
      pause: false,
    });
    expect(judgeRates(sending({ sent: 1900, complained: 20, rateBaseline: resumedAt }), limits)).toEqual({
      pause: false,
    });
    expect(judgeRates(sending({ sent: 2000, complained: 13, rateBaseline: resumedAt }), limits)).toEqual({
      pause: false,
    });
    expect(judgeRates(sending({ sent: 2000, complained: 14, rateBaseline: resumedAt }), limits)).toMatchObject({
      cause: 'complaint_rate',
      reason: 'paused: complaint rate 0.40% (4 of 1000 delivered since the last resume) is above the limit of 0.30%',
    });
  });

  test('complaints are judged before bounces when both are past their limits', () => {
    expect(judgeRates(sending({ sent: 900, bounced: 100, complained: 9 }), limits)).toMatchObject({
      cause: 'complaint_rate',
    });
  });
});
