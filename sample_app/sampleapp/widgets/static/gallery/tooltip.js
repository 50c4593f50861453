/* Gallery tooltip: the widget's text shown while the pointer is over it. */
jQuery(function ($) {
    $(".gallery-tooltip").each(function () {
        var $tip = $("<div class='tooltip-box'/>").text($(this).data("text")).hide();
        $(this).append($tip).on("mouseenter", function () { $tip.show(); }).on("mouseleave", function () { $tip.hide(); });
        $(this).addClass("gallery-ready");
    });
});
