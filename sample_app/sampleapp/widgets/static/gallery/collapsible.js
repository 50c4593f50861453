/* Gallery collapsible: the title opens and closes the body. */
jQuery(function ($) {
    $(".gallery-collapsible").each(function () {
        var $body = $(this).find(".gallery-body");
        $(this).find("h3").css("cursor", "pointer").on("click", function () { $body.toggle(); });
        $(this).addClass("gallery-ready");
    });
});
