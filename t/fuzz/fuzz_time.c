
/*
 * Portail Citoyen: nginx's ngx_gmtime() for the form fuzzer, whose
 * ngx_times.c needs nginx's cached clock.  A file of its own: nginx's
 * function, not a part of the fuzz target.
 */


#include <ngx_config.h>
#include <ngx_core.h>


void
ngx_gmtime(time_t t, ngx_tm_t *tp)
{
    (void) gmtime_r(&t, tp);

    /* nginx's: the months from 1, the year in full */

    tp->ngx_tm_mon++;
    tp->ngx_tm_year += 1900;
}
