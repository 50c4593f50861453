/* Gallery clock: the time, updated every second. */
jQuery(function ($) {
    $(".gallery-clock").each(function () {
        var $body = $(this).find(".gallery-body");
        function tick() { $body.text(new Date().toLocaleTimeString()); }
        tick();
        setInterval(tick, 1000);
        $(this).addClass("gallery-ready");
    });
});
