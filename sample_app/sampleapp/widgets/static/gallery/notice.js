/* Gallery notice: a message that can be dismissed. */
jQuery(function ($) {
    $(".gallery-notice").each(function () {
        var $widget = $(this);
        $("<button type='button' class='notice-close'>&times;</button>").on("click", function () {
            $widget.slideUp();
        }).appendTo($widget.find("h3"));
        $widget.addClass("gallery-ready");
    });
});
