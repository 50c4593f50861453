/* Gallery copy button: copies the widget's text to the clipboard. */
jQuery(function ($) {
    $(".gallery-copy").each(function () {
        var text = $(this).data("text");
        var $button = $("<button type='button' class='copy-button'>Copy</button>").on("click", function () {
            if (navigator.clipboard) { navigator.clipboard.writeText(String(text)); }
            $button.text("Copied");
        });
        $(this).find(".gallery-body").append(" ", $button);
        $(this).addClass("gallery-ready");
    });
});
