// A zone with DST, so the wall-clock tests below can fail if arithmetic goes through local time.
process.env.TZ = 'Europe/Berlin'
import { describe, expect, it } from 'vitest'
import { substitute, timeContext, tokenizePattern, VariableError } from '../../main/job/variables.js'

// Run at 2026-03-01 08:30:15 local wall clock.
const ctx = timeContext({ now: new Date(2026, 2, 1, 8, 30, 15) })

describe('variables', () => {
  it('bizdate is the day before the run, across a month end', () => {
    expect(substitute('${bizdate}', {}, ctx)).toBe('20260228')
    expect(substitute('${cyctime}', {}, ctx)).toBe('20260301083015')
  })
  it('patterns over the data time with offsets in the finest unit', () => {
    expect(substitute('${yyyymmdd}', {}, ctx)).toBe('20260228')
    expect(substitute('${yyyy-mm-dd}', {}, ctx)).toBe('2026-02-28')
    expect(substitute('${yyyymmdd-1}', {}, ctx)).toBe('20260227')
    expect(substitute('${yyyymmdd+1}', {}, ctx)).toBe('20260301')
    expect(substitute('${yyyymm-1}', {}, ctx)).toBe('202601')
    expect(substitute('${yyyy-1}', {}, ctx)).toBe('2025')
    expect(substitute('${YYYYMMDD}', {}, ctx)).toBe('20260228')
    expect(substitute('${YYYYMMDDhhmm}', {}, ctx)).toBe('202602280830')
    expect(substitute('${yyyymmdd-7*2}', {}, ctx)).toBe('20260214')
  })
  it('$[...] works on the scheduled time, with hours and minutes as fractions of a day', () => {
    expect(substitute('$[yyyymmdd]', {}, ctx)).toBe('20260301')
    expect(substitute('$[yyyymmdd-1]', {}, ctx)).toBe('20260228')
    expect(substitute('$[hh24miss-1/24]', {}, ctx)).toBe('073015')
    expect(substitute('$[yyyy-mm-dd hh24:mi:ss-30/24/60]', {}, ctx)).toBe('2026-03-01 08:00:15')
    expect(substitute('$[add_months(yyyymmdd,-1)]', {}, ctx)).toBe('20260201')
  })
  it('user variables win and unknown ones fail naming the path', () => {
    expect(substitute("dt = '${bizdate}' and region = '${region}'", { region: 'eu' }, ctx)).toBe("dt = '20260228' and region = 'eu'")
    expect(substitute('${bizdate}', { bizdate: 'x' }, ctx)).toBe('x')
    expect(() => substitute('${nope}', {}, ctx, '$.tables[0].where')).toThrow(/\$\.tables\[0\]\.where: unknown variable \$\{nope\}/)
    expect(() => substitute('${nope}', {}, ctx)).toThrow(VariableError)
  })
  it('an explicit bizdate overrides the data time and is validated', () => {
    const c = timeContext({ now: new Date(2026, 0, 1), bizdate: '20240229' })
    expect(substitute('${bizdate} ${yyyymmdd-1}', {}, c)).toBe('20240229 20240228')
    expect(() => timeContext({ bizdate: '20230229' })).toThrow(/bizdate/)
  })
  it('does not shift across a DST change in the process time zone', () => {
    // 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00 -> 03:00); the data time is
    // one day before 2026-03-30 02:30 on the wall clock, so it must still read 02:30.
    expect(new Date(2026, 2, 29, 2, 30).getHours()).toBe(3) // the process really is in a DST zone
    const c = timeContext({ now: new Date(2026, 2, 30, 2, 30, 0) })
    expect(substitute('${yyyymmddhh24mi}', {}, c)).toBe('202603290230')
    expect(substitute('$[yyyymmddhh24mi-1]', {}, c)).toBe('202603290230')
  })
  it('mm means minutes only after an hour token', () => {
    expect(tokenizePattern('yyyymmdd').map((t) => t.kind)).toEqual(['year', 'month', 'day'])
    expect(tokenizePattern('hh:mm').map((t) => t.kind)).toEqual(['hour', 'lit', 'minute'])
  })
})
