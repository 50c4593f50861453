/* SampleApp: <time class="timeago"> shown as "5 minutes ago". */
jQuery(function ($) {
    "use strict";
    function ago(date) {
        var seconds = Math.max(0, (Date.now() - date.getTime()) / 1000), steps = [
            [60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]
        ], i, value = seconds;
        for (i = 0; i < steps.length; i += 1) {
            if (value < steps[i][0]) {
                value = Math.floor(value);
                return value + " " + steps[i][1] + (value === 1 ? "" : "s") + " ago";
            }
            value /= steps[i][0];
        }
    }
    $("time.timeago").each(function () {
        var date = new Date($(this).attr("datetime"));
        if (!isNaN(date.getTime())) { $(this).text(ago(date)).addClass("timeago-ready"); }
    });
});
